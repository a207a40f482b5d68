package service

import (
	"bytes"
	"context"
	"testing"

	"vmlite/domain"
)

// TestSchedInfoKeepsNoQuota: a stored "no quota" (<quota>-1</quota>) is
// what keeps <vcpu> from becoming a quota at the next start, so schedinfo
// --config keeps it when it changes something else, and writes it when
// asked for no quota (both were dropped, and the next start then had a
// quota of two CPUs).
func TestSchedInfoKeepsNoQuota(t *testing.T) {
	ctx := context.Background()
	shares, noQuota := uint64(512), int64(-1)
	for _, tc := range []struct {
		name, tune string
		change     SchedChange
	}{
		{"other change", `<cputune><quota>-1</quota></cputune>`, SchedChange{Shares: &shares}},
		{"set no quota", ``, SchedChange{QuotaUS: &noQuota}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, xml := newTest(t)
			x := bytes.Replace(xml("g", ""), []byte("<memory>65536</memory>"), []byte("<memory>65536</memory><vcpu>2</vcpu>"+tc.tune), 1)
			if _, err := s.Define(ctx, "g.xml", x); err != nil {
				t.Fatal(err)
			}
			sc, _, err := s.SchedInfo(ctx, "g", tc.change, AffectConfig)
			if err != nil {
				t.Fatal(err)
			}
			if sc.QuotaUS != -1 {
				t.Errorf("SchedInfo shows quota %d, want -1", sc.QuotaUS)
			}
			d, err := domain.NewStore(s.layout).Load("g")
			if err != nil {
				t.Fatal(err)
			}
			l, err := domain.XMLLimits(d.XML)
			if err != nil {
				t.Fatal(err)
			}
			if l.CPUQuotaUS != -1 {
				t.Fatalf("the stored definition starts with quota %d, want none (-1); cputune %+v", l.CPUQuotaUS, d.XML.CPUTune)
			}
		})
	}
}
