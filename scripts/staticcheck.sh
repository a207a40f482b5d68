#!/bin/sh
# Runs staticcheck, installing it into GOPATH/bin first when it is missing.
set -eu
sc="$(go env GOPATH)/bin/staticcheck"
if [ ! -x "$sc" ]; then
	go install honnef.co/go/tools/cmd/staticcheck@latest
fi
"$sc" "$@"
"$sc" -tags integration "$@"
