package plan

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field reachable from v to a non-zero value (slices and
// maps get one element), so that a field added later is covered without
// editing this test.
func fill(t *testing.T, v reflect.Value, path string, n *int) {
	*n++
	// The typed values of the plan, which marshal as text.
	switch v.Type() {
	case reflect.TypeOf(netip.Prefix{}):
		v.Set(reflect.ValueOf(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(*n), 5}), 24)))
		return
	case reflect.TypeOf(netip.Addr{}):
		v.Set(reflect.ValueOf(netip.AddrFrom16([16]byte{0xfd, 15: byte(*n)})))
		return
	case reflect.TypeOf(MAC{}):
		v.Set(reflect.ValueOf(MAC{0x52, 0x54, 0, 0, 0, byte(*n)}))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		ty := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := ty.Field(i)
			if !f.IsExported() {
				continue
			}
			if tag := f.Tag.Get("json"); tag == "" || tag == "-" {
				t.Errorf("%s.%s has no json tag: it would not cross the process boundary by its name", path, f.Name)
			}
			fill(t, v.Field(i), path+"."+f.Name, n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), path+"[0]", n)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, k, path+"[key]", n)
		fill(t, e, path+"[elem]", n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n%7))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() == reflect.TypeOf(Duration(0)) {
			v.SetInt(int64(time.Duration(*n) * time.Second))
		} else {
			v.SetInt(int64(*n))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Interface:
		// json.RawMessage and the like are slices; an interface here would
		// not decode back to its concrete type.
		t.Errorf("%s is an interface: it cannot round-trip through JSON", path)
	default:
		t.Errorf("%s: kind %s not filled; teach fill about it", path, v.Kind())
	}
}

// TestPlanJSONRoundTrip: a fully populated Plan survives Marshal and
// Unmarshal unchanged, the promise of the package doc.
func TestPlanJSONRoundTrip(t *testing.T) {
	var p Plan
	n := 0
	fill(t, reflect.ValueOf(&p).Elem(), "Plan", &n)
	p.Version = Version
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&p, got) {
		again, _ := json.Marshal(got)
		t.Errorf("round trip changed the plan:\nsent %s\ngot  %s", b, again)
	}
}

func TestUnmarshalVersion(t *testing.T) {
	if _, err := Unmarshal([]byte(`{"version":99}`)); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("a plan of another version: %v, want a version error", err)
	}
	if _, err := Unmarshal([]byte(`{`)); err == nil {
		t.Error("a truncated plan decoded")
	}
}

// oldInterfaces is the interfaces of a plan as vmlite wrote them when its
// addresses, routes and MACs were strings: the typed plan reads it and
// writes the same bytes, so plans of guests that an older vmlite started
// (plan.json, read by list, domifaddr, setmem...) still decode, and the
// format is not a new one.
const oldInterfaces = `[{"type":"bridge","hostName":"vml-g-0","guestName":"eth0","mac":"52:54:00:0a:0b:0c","bridge":"br0",` +
	`"ips":["10.0.0.5/24","fd00::5/64"],"routes":[{"gateway":"10.0.0.1"},{"dest":"10.1.0.0/16","gateway":"10.0.0.1"},{"dest":"fd01::/64","gateway":"fd00::1"}],"xmlPath":"/domain/devices/interface"},` +
	`{"type":"ethernet","hostName":"vml-g-1","guestName":"eth1","mac":"52:54:00:0a:0b:0d","hostIPs":["192.168.7.1/32"],"linkUp":true,"xmlPath":"/domain/devices/interface[2]"},` +
	`{"type":"hostdev","guestName":"eth9","mac":"","sourceDev":"eth9","xmlPath":"/domain/devices/hostdev"}]`

func TestInterfacesWireFormat(t *testing.T) {
	var in []Interface
	if err := json.Unmarshal([]byte(oldInterfaces), &in); err != nil {
		t.Fatal(err)
	}
	if in[0].MAC != (MAC{0x52, 0x54, 0, 10, 11, 12}) || in[0].IPs[1] != netip.MustParsePrefix("fd00::5/64") ||
		in[0].Routes[0].Dest.IsValid() || in[0].Routes[1].Dest != netip.MustParsePrefix("10.1.0.0/16") ||
		in[0].Routes[2].Gateway != netip.MustParseAddr("fd00::1") || !in[2].MAC.IsZero() || in[0].IPs[0].Addr() != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("decoded %+v", in)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != oldInterfaces {
		t.Errorf("typed plan writes\n%s\nwant the old form\n%s", b, oldInterfaces)
	}
	for _, bad := range []string{
		`[{"mac":"52:54:00:0a:0b"}]`, `[{"mac":"52:54:00:0a:0b:0g"}]`, `[{"mac":"52:54:00:0a:0b:+1"}]`,
		`[{"ips":["10.0.0.5"]}]`, `[{"ips":["10.0.0.300/24"]}]`, `[{"routes":[{"gateway":"router"}]}]`,
	} {
		if err := json.Unmarshal([]byte(bad), &in); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestParseMAC(t *testing.T) {
	for in, want := range map[string]string{
		"52:54:00:0A:0b:0c": "52:54:00:0a:0b:0c", "2:4:6:8:a:c": "02:04:06:08:0a:0c",
		"52:54:00:0a:0b": "", "52:54:00:0a:0b:0c:0d": "", "52-54-00-0a-0b-0c": "", "52:54:00:0a:0b:123": "", "::::::": "", "52:54:00:0a:0b:-1": "",
	} {
		m, err := ParseMAC(in)
		if got := m.String(); (err == nil) != (want != "") || got != want {
			t.Errorf("ParseMAC(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if m, _ := ParseMAC("01:00:5e:00:00:01"); !m.Multicast() {
		t.Error("01:00:5e:00:00:01 is multicast")
	}
}

// FuzzParseMAC: ParseMAC never panics, and what it accepts prints as
// six two-digit octets that parse to the same MAC.
func FuzzParseMAC(f *testing.F) {
	f.Add("52:54:00:0a:0b:0c")
	f.Add("2:4:6:8:a:c")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		if err != nil {
			return
		}
		again, err := ParseMAC(m.String())
		if m.IsZero() {
			return // 00:00:00:00:00:00 is none
		}
		if err != nil || again != m || len(m.String()) != 17 {
			t.Fatalf("ParseMAC(%q) = %v; its String %q parses to %v, %v", s, m, m.String(), again, err)
		}
	})
}
