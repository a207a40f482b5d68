package plan

import (
	"encoding/json"
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
