package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"vmlite/internal/errdefs"
)

// refNameAnnotation names a manifest in an OCI layout's index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// Import stores the image at path: an OCI image layout directory, a
// docker-archive tarball (docker save), or a plain root filesystem tarball
// (tar, gz, xz, zst). name "" picks the image's own name (the layout's
// ref.name annotation, the archive's first tag) or the file's base name.
func (s *Store) Import(path, name string) (Image, error) {
	shown := name
	if shown == "" {
		shown = DefaultName(path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Image{}, &ImportError{Image: shown, Err: fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)}
	}
	abs, _ := filepath.Abs(path)
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "oci-layout")); err != nil {
			return Image{}, &ImportError{Image: shown, Err: fmt.Errorf("%w: %s is a directory but not an OCI image layout (no oci-layout file); a root filesystem tree imports as a tarball: tar -C %s -c . > root.tar", errFormat, path, path)}
		}
		return s.importLayout(abs, name)
	}
	if isDockerArchive(path) {
		return s.importDockerArchive(abs, name)
	}
	if name == "" {
		name = shown
	}
	return s.ImportRootfsTarball(abs, name)
}

// isDockerArchive: an uncompressed tar with manifest.json at its top. It
// stops at the first entry a docker-archive cannot have (a rootfs
// tarball's first, "./" or "bin"), so that a rootfs tarball is not
// walked through before its one read (ImportRootfsTarball).
func isDockerArchive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil || !dockerArchiveEntry(h.Name) {
			return false
		}
		if strings.TrimPrefix(h.Name, "./") == "manifest.json" {
			return true
		}
	}
}

// dockerArchiveEntry reports whether name can be an entry of a
// docker-archive: docker save's (legacy: ID/, ID/layer.tar, ID.json;
// docker 25 and later: an OCI layout's blobs/, index.json, oci-layout),
// podman's and go-containerregistry's (HEX.tar, HEX.tar.gz, sha256:HEX),
// and manifest.json and repositories.
func dockerArchiveEntry(name string) bool {
	n := strings.TrimPrefix(name, "./")
	switch n {
	case "manifest.json", "repositories", "index.json", "oci-layout", "blobs", "blobs/":
		return true
	}
	if strings.HasPrefix(n, "blobs/") {
		return true
	}
	n = strings.TrimPrefix(n, "sha256:")
	return len(n) >= 64 && isHex(n[:64]) && (len(n) == 64 || strings.ContainsRune("/.", rune(n[64])))
}

func (s *Store) importLayout(dir, name string) (Image, error) {
	shown := name
	if shown == "" {
		shown = DefaultName(dir)
	}
	fail := func(err error) (Image, error) { return Image{}, &ImportError{Image: shown, Err: err} }
	p, err := layout.FromPath(dir)
	if err != nil {
		return fail(fmt.Errorf("%w: OCI layout %s: %w", errFormat, dir, err))
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return fail(fmt.Errorf("%w: OCI layout %s: %w", errFormat, dir, err))
	}
	img, ref, err := pickImage(idx, name)
	if err != nil {
		return fail(err)
	}
	if name == "" {
		name = ref
		if name == "" {
			name = shown
		}
	}
	return s.importV1(name, dir, FormatOCILayout, img)
}

// pickImage chooses the image of an index: the one whose ref.name is want,
// or the only one, or the one for this machine's platform.
func pickImage(idx v1.ImageIndex, want string) (v1.Image, string, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("%w: index: %w", errFormat, err)
	}
	var cands []v1.Descriptor
	for _, d := range m.Manifests {
		if want != "" && d.Annotations[refNameAnnotation] == want {
			cands = []v1.Descriptor{d}
			break
		}
		cands = append(cands, d)
	}
	if len(cands) > 1 {
		var plat []v1.Descriptor
		for _, d := range cands {
			if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
				plat = append(plat, d)
			}
		}
		if len(plat) != 1 {
			var refs []string
			for _, d := range cands {
				refs = append(refs, d.Annotations[refNameAnnotation])
			}
			return nil, "", fmt.Errorf("%w: the layout holds %d images (%s): name one with --name", errdefs.ErrInvalid, len(cands), strings.Join(refs, ", "))
		}
		cands = plat
	}
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("%w: the layout's index lists no image", errFormat)
	}
	d := cands[0]
	ref := d.Annotations[refNameAnnotation]
	switch {
	case d.MediaType.IsImage():
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, "", fmt.Errorf("%w: manifest %s: %w", errFormat, d.Digest, err)
		}
		return img, ref, nil
	case d.MediaType.IsIndex():
		sub, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, "", fmt.Errorf("%w: index %s: %w", errFormat, d.Digest, err)
		}
		img, subRef, err := pickImage(sub, "")
		if ref == "" {
			ref = subRef
		}
		return img, ref, err
	}
	return nil, "", fmt.Errorf("%w: unknown media type %q of manifest %s", errFormat, d.MediaType, d.Digest)
}

// importV1 stores an image read through go-containerregistry from a layout
// or a registry: the manifest's digests are checked against what is read.
func (s *Store) importV1(name, source, format string, img v1.Image) (Image, error) {
	fail := func(err error) (Image, error) { return Image{}, &ImportError{Image: name, Err: err} }
	raw, err := img.RawConfigFile()
	if err != nil {
		return fail(classify(fmt.Errorf("read config: %w", err)))
	}
	m, err := img.Manifest()
	if err != nil {
		return fail(classify(fmt.Errorf("%w: manifest: %w", errFormat, err)))
	}
	if got := digestOf(raw); got != m.Config.Digest.String() {
		return fail(fmt.Errorf("%w: the config hashes to %s, the manifest says %s", errDigest, got, m.Config.Digest))
	}
	var ls []layerSource
	for _, d := range m.Layers {
		d := d
		ls = append(ls, layerSource{digest: d.Digest.String(), mediaType: d.MediaType, open: func() (io.ReadCloser, error) {
			l, err := img.LayerByDigest(d.Digest)
			if err != nil {
				return nil, classify(err)
			}
			rc, err := l.Compressed()
			return rc, classify(err)
		}})
	}
	return s.storeImage(name, source, format, raw, ls)
}

func (s *Store) importDockerArchive(path, name string) (Image, error) {
	shown := name
	if shown == "" {
		shown = DefaultName(path)
	}
	fail := func(err error) (Image, error) { return Image{}, &ImportError{Image: shown, Err: err} }
	man, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return fail(fmt.Errorf("%w: docker archive %s: %w", errFormat, path, err))
	}
	if len(man) != 1 {
		return fail(fmt.Errorf("%w: docker archive %s holds %d images; vmlite imports archives of one (docker save IMAGE)", errdefs.ErrInvalid, path, len(man)))
	}
	if name == "" {
		name = shown
		if len(man[0].RepoTags) > 0 {
			name = man[0].RepoTags[0]
		}
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return fail(fmt.Errorf("%w: docker archive %s: %w", errFormat, path, err))
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return fail(fmt.Errorf("%w: docker archive %s: config: %w", errFormat, path, err))
	}
	layers, err := img.Layers()
	if err != nil {
		return fail(fmt.Errorf("%w: docker archive %s: layers: %w", errFormat, path, err))
	}
	// The archive holds no digest of its own besides the config's diff_ids,
	// which storeLayer checks against the uncompressed stream.
	var ls []layerSource
	for _, l := range layers {
		ls = append(ls, layerSource{open: l.Uncompressed})
	}
	return s.storeImage(name, path, FormatDockerArchive, raw, ls)
}

// PullOptions tune Pull.
type PullOptions struct {
	// Insecure talks plain HTTP to the registry (localhost and 127.0.0.1
	// registries get it anyway, as docker does).
	Insecure bool
	// Name stores the image under this name instead of ref.
	Name string
	// Timeout bounds the whole pull (DefaultPullTimeout when 0); a
	// registry that takes the connection but sends no reply is given up
	// after it or 30 s, whichever is less.
	Timeout time.Duration
}

// DefaultPullTimeout is a pull's time limit when PullOptions has none.
const DefaultPullTimeout = 10 * time.Minute

// Pull fetches ref (REGISTRY/REPOSITORY[:TAG|@DIGEST]) from an OCI
// registry and stores it; the platform is linux and this machine's
// architecture.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) (Image, error) {
	shown := o.Name
	if shown == "" {
		shown = ref
	}
	fail := func(err error) (Image, error) { return Image{}, &ImportError{Image: shown, Err: err} }
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", errdefs.ErrInvalid, err))
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultPullTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = min(30*time.Second, o.Timeout)
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		return fail(classify(fmt.Errorf("fetch the manifest from %s://%s: %w", r.Context().Registry.Scheme(), r.Context().RegistryStr(), err)))
	}
	return s.importV1(shown, r.Name(), FormatRegistry, img)
}

// classify marks network failures (the registry does not answer) as such.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w: %w", errNet, err)
	}
	return err
}
