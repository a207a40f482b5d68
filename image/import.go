package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"vmlite/internal/errdefs"
)

// Config is an image's config (OCI image config, docker's is the same
// shape): what template image reads (Entrypoint, Cmd, Env, WorkingDir, User).
type Config = v1.ConfigFile

// Formats of an image's source.
const (
	FormatOCILayout     = "oci-layout"
	FormatDockerArchive = "docker-archive"
	FormatRegistry      = "registry"
	FormatRootfsTarball = "rootfs-tarball"
)

// ImportError is the one error of a failed import: the image, the layer (if
// it got that far) and the fault.
type ImportError struct {
	Image string // name being imported
	// Layer is "sha256:... (N of M)" or "".
	Layer string
	Err   error
}

func (e *ImportError) Error() string {
	if e.Layer == "" {
		return fmt.Sprintf("image %s: %v", e.Image, e.Err)
	}
	return fmt.Sprintf("image %s: layer %s: %v", e.Image, e.Layer, e.Err)
}
func (e *ImportError) Unwrap() error { return e.Err }

// UserError: a bad image is the user's to fix (exit 2), an I/O failure of
// the host is not.
func (e *ImportError) UserError() bool {
	var pe *os.PathError
	return errdefs.IsUserError(e.Err) || errors.Is(e.Err, ErrBadEntry) || errors.Is(e.Err, errDigest) ||
		errors.Is(e.Err, errFormat) || errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, tar.ErrHeader) ||
		errors.Is(e.Err, gzip.ErrHeader) || errors.Is(e.Err, gzip.ErrChecksum) || !errors.As(e.Err, &pe) && !errors.Is(e.Err, errNet)
}

var (
	errDigest = errors.New("digest mismatch")
	errFormat = errors.New("unsupported format")
	errNet    = errors.New("registry unreachable")
)

// layerSource is one layer to store: a stream and what it must hash to.
type layerSource struct {
	// diffID is the expected sha256 of the uncompressed tar; "" for a
	// rootfs tarball, whose digest the extraction computes.
	diffID string
	// digest is the expected sha256 of the stream as open returns it ("" when
	// the source holds no independent digest, e.g. a docker-archive).
	digest    string
	mediaType types.MediaType
	open      func() (io.ReadCloser, error)
}

// storeImage stores an image whose config is rawConfig and whose layers
// are layers (bottom first), under name. Layers already in the store (by
// diff_id) are not extracted again. Nothing becomes visible before every
// layer is complete. A nil rawConfig makes the config of a rootfs tarball
// from the layers' digests, computed while they are extracted.
func (s *Store) storeImage(name, source, format string, rawConfig []byte, layers []layerSource) (Image, error) {
	fail := func(layer string, err error) (Image, error) {
		return Image{}, &ImportError{Image: name, Layer: layer, Err: err}
	}
	if err := CheckName(name); err != nil {
		return fail("", err)
	}
	if rawConfig != nil {
		var cfg Config
		if err := json.Unmarshal(rawConfig, &cfg); err != nil {
			return fail("", fmt.Errorf("%w: image config: %w", errFormat, err))
		}
		if len(cfg.RootFS.DiffIDs) != len(layers) {
			return fail("", fmt.Errorf("%w: the config lists %d layers, the manifest %d", errFormat, len(cfg.RootFS.DiffIDs), len(layers)))
		}
		if cfg.OS != "" && cfg.OS != "linux" {
			return fail("", fmt.Errorf("%w: an image for %s, not linux", errFormat, cfg.OS))
		}
		for i := range layers {
			layers[i].diffID = cfg.RootFS.DiffIDs[i].String()
		}
	}
	lock, err := s.lock()
	if err != nil {
		return fail("", err)
	}
	defer lock.Close()
	im := Image{Name: name, Source: source, Format: format, Imported: time.Now().UTC().Truncate(time.Second)}
	for i, l := range layers {
		diffID, size, err := s.storeLayer(l)
		if err != nil {
			where := fmt.Sprintf("%d of %d", i+1, len(layers))
			if diffID == "" {
				diffID = l.diffID
			}
			if diffID != "" {
				where = short(diffID) + " (" + where + ")"
			}
			return fail(where, err)
		}
		im.Layers = append(im.Layers, diffID)
		im.Size += size
	}
	if rawConfig == nil {
		if rawConfig, err = rootfsConfig(im.Layers); err != nil {
			return fail("", err)
		}
	}
	im.ID = digestOf(rawConfig)
	if err := os.WriteFile(s.ConfigFile(im.ID), rawConfig, 0o644); err != nil {
		return fail("", fmt.Errorf("store config: %w", err))
	}
	if err := s.add(im); err != nil {
		return fail("", err)
	}
	return im, nil
}

// rootfsConfig is the config of a rootfs tarball: this machine's
// architecture, linux, its layers and nothing else.
func rootfsConfig(diffIDs []string) ([]byte, error) {
	cfg := Config{Architecture: runtime.GOARCH, OS: "linux", RootFS: v1.RootFS{Type: "layers"}}
	for _, d := range diffIDs {
		h, err := v1.NewHash(d)
		if err != nil {
			return nil, err
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, h)
	}
	return json.Marshal(cfg)
}

func short(d string) string {
	if len(d) > 7+12 {
		return d[:7+12]
	}
	return d
}

// storeLayer extracts one layer into the store unless it is there already;
// it returns the layer's diff_id and uncompressed size. The stream is read
// once: the digests are computed while it is extracted. A layer of unknown
// diff_id (a rootfs tarball) is extracted before the store can tell
// whether it has it; on a refused entry its diff_id is still computed, so
// that the error names the layer.
func (s *Store) storeLayer(l layerSource) (string, int64, error) {
	if l.diffID != "" {
		if !strings.HasPrefix(l.diffID, "sha256:") || len(l.diffID) != 7+64 || !isHex(l.diffID[7:]) {
			return "", 0, fmt.Errorf("%w: diff_id %q is not a sha256 digest", errFormat, l.diffID)
		}
		if fi, err := os.Stat(s.LayerDir(l.diffID)); err == nil && fi.IsDir() {
			return l.diffID, dirSize(s.LayerDir(l.diffID)), nil
		}
	}
	if !knownLayerType(l.mediaType) {
		return "", 0, fmt.Errorf("%w: unknown media type %q (vmlite reads OCI and docker layer tarballs: tar, tar+gzip, tar+zstd)", errFormat, l.mediaType)
	}
	rc, err := l.open()
	if err != nil {
		return "", 0, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	tmp, err := os.MkdirTemp(s.tmpDir(), "layer-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(tmp) // nothing after the rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", 0, err
	}
	// The blob's own digest only when there is one to check (a rootfs
	// tarball has none: hashing it twice cost a sixth of an import's CPU).
	outer := sha256.New()
	var blob io.Reader = rc
	if l.digest != "" {
		blob = io.TeeReader(rc, outer)
	}
	r, err := decompress(blob)
	if err != nil {
		return "", 0, err
	}
	inner := &countingHash{h: sha256.New()}
	tr := io.TeeReader(r, inner)
	n, err := extractLayer(tr, tmp)
	if err == nil && n == 0 && l.diffID == "" {
		err = fmt.Errorf("%w: an empty tar archive", errFormat)
	}
	if err != nil {
		if l.diffID != "" {
			return l.diffID, 0, err
		}
		// Name the layer by its digest, which needs the rest of the stream
		// (none when the stream itself broke).
		if _, cerr := io.Copy(io.Discard, tr); cerr != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", 0, err
		}
		return "sha256:" + hex.EncodeToString(inner.h.Sum(nil)), 0, err
	}
	// The digests cover the whole stream, tar padding and all.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return l.diffID, 0, fmt.Errorf("read the layer: %w", err)
	}
	diffID := l.diffID
	if diffID == "" {
		diffID = "sha256:" + hex.EncodeToString(inner.h.Sum(nil))
	}
	if l.digest != "" {
		if _, err := io.Copy(io.Discard, io.TeeReader(rc, outer)); err != nil {
			return diffID, 0, fmt.Errorf("read the layer: %w", err)
		}
		if got := "sha256:" + hex.EncodeToString(outer.Sum(nil)); got != l.digest {
			return diffID, 0, fmt.Errorf("%w: the blob hashes to %s, the manifest says %s (corrupt or tampered)", errDigest, got, l.digest)
		}
	}
	if got := "sha256:" + hex.EncodeToString(inner.h.Sum(nil)); got != diffID {
		return diffID, 0, fmt.Errorf("%w: the uncompressed layer hashes to %s, the image config says %s (corrupt or tampered)", errDigest, got, diffID)
	}
	final := s.LayerDir(diffID)
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		return diffID, inner.n, nil // a rootfs tarball the store has already
	}
	if err := os.Rename(tmp, final); err != nil {
		return diffID, 0, fmt.Errorf("store layer: %w", err)
	}
	return diffID, inner.n, nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func knownLayerType(mt types.MediaType) bool {
	switch mt {
	case "", types.OCILayer, types.OCILayerZStd, types.OCIRestrictedLayer, types.OCIUncompressedLayer,
		types.OCIUncompressedRestrictedLayer, types.DockerLayer, types.DockerForeignLayer, types.DockerUncompressedLayer:
		return true
	}
	return false
}

// decompress recognises gzip, zstd and xz by their magic numbers (layers
// are often labelled loosely) and passes a plain tar through.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read the layer: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		z.Multistream(true)
		return z, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return z.IOReadCloser(), nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		z, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return z, nil
	}
	return br, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// ImportRootfsTarball stores a plain root filesystem tarball (tar, tar.gz,
// tar.xz, tar.zst) as a one-layer image with an empty config. The tarball
// is read once: its diff_id, which the config needs, is computed while it
// is extracted, and a truncated archive fails the extraction, which
// stores nothing.
func (s *Store) ImportRootfsTarball(path, name string) (Image, error) {
	abs, _ := filepath.Abs(path)
	return s.importRootfs(name, abs, func() (io.ReadCloser, error) { return os.Open(path) })
}

func (s *Store) importRootfs(name, source string, open func() (io.ReadCloser, error)) (Image, error) {
	return s.storeImage(name, source, FormatRootfsTarball, nil, []layerSource{{open: open}})
}

// DefaultName is the image name of a file or directory imported without
// --name: its base name without archive extensions.
func DefaultName(path string) string {
	b := filepath.Base(filepath.Clean(path))
	for _, ext := range []string{".gz", ".tgz", ".xz", ".txz", ".zst", ".tzst", ".tar"} {
		b = strings.TrimSuffix(b, ext)
	}
	return b
}
