package devices

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// request is what the kernel asks a device program: one access to one device.
type request struct {
	typ          byte // 'b' or 'c'
	major, minor uint32
	access       byte // 'r', 'w' or 'm'
}

// decode reads Program's encoding back with cilium/ebpf's decoder: the
// library's reading of the bytes is what the interpreter below runs, so a
// mistake in Program's hand-made encoding shows as a wrong verdict or an
// unknown instruction.
func decode(t *testing.T, prog []byte) asm.Instructions {
	t.Helper()
	// The decoder takes the two fixed byte orders, not NativeEndian.
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		bo = binary.BigEndian
	}
	var insns asm.Instructions
	for r := bytes.NewReader(prog); r.Len() > 0; {
		var ins asm.Instruction
		if err := ins.Unmarshal(r, bo, "linux"); err != nil {
			t.Fatalf("decode program: %v", err)
		}
		insns = append(insns, ins)
	}
	if len(insns)*insnSize != len(prog) {
		t.Fatalf("%d bytes decode to %d instructions", len(prog), len(insns))
	}
	return insns
}

// run executes prog on req as the kernel would, for the instructions
// Program emits (it fails t on any other): the generated code is checked
// here without root; bpf_linux_test.go runs it in the kernel.
func run(t *testing.T, prog []byte, req request) bool {
	t.Helper()
	insns := decode(t, prog)
	ctx := make([]byte, 12)
	typ := map[byte]uint32{'b': devBlock, 'c': devChar}[req.typ]
	acc := map[byte]uint32{'m': accMknod, 'r': accRead, 'w': accWrite}[req.access]
	binary.LittleEndian.PutUint32(ctx[ctxAccessType:], acc<<16|typ)
	binary.LittleEndian.PutUint32(ctx[ctxMajor:], req.major)
	binary.LittleEndian.PutUint32(ctx[ctxMinor:], req.minor)
	const ctxPtr = 0x10000 // R1's value: where ctx "is"
	var regs [11]uint64
	regs[asm.R1] = ctxPtr
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc >= len(insns) || steps > len(insns) {
			t.Fatalf("ran off the program or looped at %d:\n%v", pc, insns)
		}
		ins := insns[pc]
		op := ins.OpCode
		src := uint64(int64(ins.Constant)) // a 64-bit op sign-extends its immediate
		if op.Source() == asm.RegSource {
			src = regs[ins.Src]
		}
		switch {
		case op.Class() == asm.LdXClass && op.Mode() == asm.MemMode && op.Size() == asm.Word:
			off := int(regs[ins.Src]) - ctxPtr + int(ins.Offset)
			if off < 0 || off+4 > len(ctx) {
				t.Fatalf("load outside the context at %d: %v", pc, ins)
			}
			regs[ins.Dst] = uint64(binary.LittleEndian.Uint32(ctx[off:]))
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov:
			regs[ins.Dst] = src
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.And:
			regs[ins.Dst] &= src
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.RSh:
			regs[ins.Dst] >>= src
		case op.Class() == asm.ALUClass && op.ALUOp() == asm.Mov && op.Source() == asm.ImmSource:
			regs[ins.Dst] = uint64(uint32(ins.Constant)) // 32-bit ops zero-extend
		case op.Class() == asm.JumpClass && op.JumpOp() == asm.Exit:
			switch regs[asm.R0] {
			case 0:
				return false
			case 1:
				return true
			}
			t.Fatalf("returned %d", regs[asm.R0])
		case op.Class() == asm.JumpClass && op.JumpOp() == asm.JNE:
			if regs[ins.Dst] != src {
				if ins.Offset <= 0 || pc+1+int(ins.Offset) >= len(insns) {
					t.Fatalf("jump at %d by %d: not forward into the program", pc, ins.Offset)
				}
				pc += int(ins.Offset)
			}
		default:
			t.Fatalf("instruction %d not modelled: %v", pc, ins)
		}
	}
}

// allows is the rules' meaning, as devices.allow reads them: the reference
// the generated program must agree with.
func allows(rules []Rule, req request) bool {
	for _, r := range rules {
		if r.Type == 'a' {
			if r.Access == "" || strings.IndexByte(r.Access, req.access) >= 0 {
				return true
			}
			continue
		}
		if r.Type == req.typ && (r.Major == Wildcard || r.Major == int64(req.major)) &&
			(r.Minor == Wildcard || r.Minor == int64(req.minor)) && strings.IndexByte(r.Access, req.access) >= 0 {
			return true
		}
	}
	return false
}

func TestProgram(t *testing.T) {
	hostdev := Rule{'b', 8, 0, "rw"}
	big := Rule{'c', 1<<32 - 1, 1 << 31, "r"} // beyond int32: compared unsigned
	std := append(append([]Rule{}, Standard...), hostdev)
	for _, tc := range []struct {
		name  string
		rules []Rule
		req   request
		want  bool
	}{
		{"null read", std, request{'c', 1, 3, 'r'}, true},
		{"null mknod", std, request{'c', 1, 3, 'm'}, true},
		{"urandom write", std, request{'c', 1, 9, 'w'}, true},
		{"kmsg", std, request{'c', 1, 11, 'r'}, false},
		{"ptmx", std, request{'c', 5, 2, 'w'}, true},
		{"pty slave 0", std, request{'c', 136, 0, 'r'}, true},
		{"pty slave 4095", std, request{'c', 136, 4095, 'w'}, true},
		{"pty master", std, request{'c', 128, 0, 'r'}, false},
		{"block 1:3 is not null", std, request{'b', 1, 3, 'r'}, false},
		{"hostdev read", std, request{'b', 8, 0, 'r'}, true},
		{"hostdev mknod: not granted", std, request{'b', 8, 0, 'm'}, false},
		{"hostdev partition", std, request{'b', 8, 1, 'r'}, false},
		{"char 8:0 is not the hostdev", std, request{'c', 8, 0, 'r'}, false},
		{"empty list", nil, request{'c', 1, 3, 'r'}, false},
		{"major wildcard", []Rule{{'c', Wildcard, 7, "r"}}, request{'c', 250, 7, 'r'}, true},
		{"major wildcard, other minor", []Rule{{'c', Wildcard, 7, "r"}}, request{'c', 250, 8, 'r'}, false},
		{"both wildcards, block", []Rule{{'b', Wildcard, Wildcard, "m"}}, request{'b', 259, 3, 'm'}, true},
		{"both wildcards, block, read", []Rule{{'b', Wildcard, Wildcard, "m"}}, request{'b', 259, 3, 'r'}, false},
		{"both wildcards, char", []Rule{{'b', Wildcard, Wildcard, "rwm"}}, request{'c', 1, 3, 'r'}, false},
		{"all", []Rule{DenyAll}, request{'b', 8, 0, 'w'}, true},
		{"all, read only", []Rule{{Type: 'a', Access: "r"}}, request{'c', 1, 3, 'w'}, false},
		{"all, read only, read", []Rule{{Type: 'a', Access: "r"}}, request{'b', 7, 7, 'r'}, true},
		{"big numbers", []Rule{big}, request{'c', 1<<32 - 1, 1 << 31, 'r'}, true},
		{"big numbers, low bits only", []Rule{big}, request{'c', 1<<31 - 1, 1 << 31, 'r'}, false},
		{"second rule", []Rule{{'c', 1, 3, "r"}, {'c', 1, 3, "w"}}, request{'c', 1, 3, 'w'}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := Program(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if got := run(t, prog, tc.req); got != tc.want {
				t.Errorf("%+v with %q: allowed=%v, want %v\n%v", tc.req, tc.rules, got, tc.want, decode(t, prog))
			}
			if ref := allows(tc.rules, tc.req); ref != tc.want {
				t.Errorf("reference disagrees with the table: %v", ref)
			}
		})
	}
}

// TestProgramAgrees runs many random lists and requests through the
// generated program and the reference.
func TestProgramAgrees(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	num := func() int64 { return []int64{Wildcard, 0, 1, 3, 136, 1<<32 - 1}[rnd.Intn(6)] }
	accesses := []string{"r", "w", "m", "rw", "rm", "wm", "rwm"}
	for i := 0; i < 2000; i++ {
		rules := make([]Rule, rnd.Intn(5))
		for j := range rules {
			rules[j] = Rule{"bca"[rnd.Intn(3)], num(), num(), accesses[rnd.Intn(len(accesses))]}
		}
		prog, err := Program(rules)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 20; k++ {
			n := func() uint32 { return []uint32{0, 1, 3, 136, 1<<32 - 1}[rnd.Intn(5)] }
			req := request{"bc"[rnd.Intn(2)], n(), n(), "rwm"[rnd.Intn(3)]}
			if got, want := run(t, prog, req), allows(rules, req); got != want {
				t.Fatalf("%+v with %q: program says %v, reference %v\n%v", req, rules, got, want, decode(t, prog))
			}
		}
	}
}

func TestProgramShape(t *testing.T) {
	// Nothing after a rule that matches everything: the verifier refuses
	// unreachable instructions.
	prog, err := Program([]Rule{{'c', 1, 3, "r"}, DenyAll, {'c', 1, 5, "r"}})
	if err != nil {
		t.Fatal(err)
	}
	insns := decode(t, prog)
	if last := insns[len(insns)-2]; last.Constant != 1 || insns[len(insns)-1].OpCode.JumpOp() != asm.Exit {
		t.Errorf("program does not end with the match-all rule's allow:\n%v", insns)
	}
	if _, err := Program([]Rule{{'c', 1, 3, "rwx"}}); err == nil {
		t.Error("an invalid rule was translated")
	}
}
