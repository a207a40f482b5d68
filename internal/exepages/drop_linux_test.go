package exepages

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// exeRSS sums the Rss of this test binary's read-only mappings, in KiB.
func exeRSS(t *testing.T) int {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) >= 2 && strings.Contains(fl[0], "-") && !strings.HasSuffix(fl[0], ":") {
			in = len(fl) >= 6 && strings.Join(fl[5:], " ") == exe && fl[1][1] == '-'
			continue
		}
		if in && len(fl) >= 2 && fl[0] == "Rss:" {
			n, _ := strconv.Atoi(fl[1])
			sum += n
		}
	}
	return sum
}

func TestDrop(t *testing.T) {
	before := exeRSS(t)
	if err := Drop(); err != nil {
		t.Fatal(err)
	}
	after := exeRSS(t) // this very code runs again from the page cache
	t.Logf("read-only mappings of the test binary: %d KiB resident before, %d after", before, after)
	if after >= before {
		t.Errorf("Drop left %d KiB of %d resident", after, before)
	}
}
