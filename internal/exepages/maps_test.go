package exepages

import (
	"reflect"
	"strings"
	"testing"
)

const sampleMaps = `00400000-00a95000 r-xp 00000000 fe:00 10153472                           /usr/bin/vmlite
00a95000-01415000 r--p 00695000 fe:00 10153472                           /usr/bin/vmlite
01415000-0147b000 rw-p 01015000 fe:00 10153472                           /usr/bin/vmlite
0147b000-034c4000 rw-p 00000000 00:00 0
7f447df3b000-7f447e091000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000000000-7f0000001000 r--s 00000000 fe:00 10153472                   /usr/bin/vmlite
7f0000002000-7f0000003000 r--p 00000000 fe:00 999                        /usr/bin/vmlite (deleted)
7ffd1000-7ffd0000 r--p 00000000 fe:00 10153472                           /usr/bin/vmlite
zz-01 r--p 00000000 fe:00 10153472                                       /usr/bin/vmlite
`

func TestReadOnlyRanges(t *testing.T) {
	got := readOnlyRanges(strings.NewReader(sampleMaps), "/usr/bin/vmlite")
	want := []Range{{0x400000, 0xa95000}, {0xa95000, 0x1415000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %x, want %x (not the writable data, the shared mapping, other files, bad lines)", got, want)
	}
	if got := readOnlyRanges(strings.NewReader(sampleMaps), "/usr/bin/vmlite (deleted)"); len(got) != 1 || got[0] != (Range{0x7f0000002000, 0x7f0000003000}) {
		t.Errorf("a path with a space: got %x", got)
	}
	if got := readOnlyRanges(strings.NewReader(""), "/x"); got != nil {
		t.Errorf("empty: got %x", got)
	}
}

func FuzzReadOnlyRanges(f *testing.F) {
	f.Add(sampleMaps, "/usr/bin/vmlite")
	f.Fuzz(func(t *testing.T, maps, path string) {
		for _, r := range readOnlyRanges(strings.NewReader(maps), path) {
			if r.End <= r.Start {
				t.Fatalf("empty or reversed range %x", r)
			}
		}
	})
}
