#!/bin/sh
# Runs staticcheck over every package, the integration tests included,
# installing it into GOPATH/bin first when it is missing.
set -eu
sc="$(go env GOPATH)/bin/staticcheck"
if [ ! -x "$sc" ]; then
	go install honnef.co/go/tools/cmd/staticcheck@latest
fi
exec "$sc" -tags integration "$@"
