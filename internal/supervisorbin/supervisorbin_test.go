package supervisorbin

import (
	"bytes"
	"testing"
)

// TestSizeMatchesContent: Size and WriteTo agree, whether this build
// embeds vmlite-supervisor (after make build) or not (a fresh clone).
func TestSizeMatchesContent(t *testing.T) {
	var b bytes.Buffer
	err := WriteTo(&b)
	size := Size()
	switch {
	case size == 0:
		if err == nil {
			t.Errorf("no embedded vmlite-supervisor, yet WriteTo wrote %d bytes", b.Len())
		}
	case err != nil:
		t.Fatalf("WriteTo: %v", err)
	case int64(b.Len()) != size:
		t.Errorf("WriteTo wrote %d bytes, Size says %d", b.Len(), size)
	case !bytes.HasPrefix(b.Bytes(), []byte("\x7fELF")):
		t.Error("the embedded vmlite-supervisor is not an ELF file")
	}
}
