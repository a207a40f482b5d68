package devices

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"
)

// The context of a BPF_PROG_TYPE_CGROUP_DEVICE program, struct
// bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h): three u32s, the first
// holding the access bits above the device type.
const (
	ctxAccessType = 0 // (access << 16) | type
	ctxMajor      = 4
	ctxMinor      = 8

	devBlock = 1 // BPF_DEVCG_DEV_BLOCK
	devChar  = 2 // BPF_DEVCG_DEV_CHAR

	accMknod = 1 // BPF_DEVCG_ACC_MKNOD
	accRead  = 2 // BPF_DEVCG_ACC_READ
	accWrite = 4 // BPF_DEVCG_ACC_WRITE
	accAll   = accMknod | accRead | accWrite
)

// Registers of the generated program: R1 holds the context pointer on
// entry, R0 the verdict on exit.
const (
	r0 = 0
	r1 = 1
	// The request, unpacked once.
	regType   = 2
	regAccess = 3
	regMajor  = 4
	regMinor  = 5
	regTmp    = r1 // the context pointer, free once the request is read
)

// insn is one eBPF instruction, struct bpf_insn. The program is written
// here rather than with an assembler library (cilium/ebpf/asm, which the
// tests use to decode and check it): the supervisor links this package,
// and a dozen opcodes are all it needs.
type insn struct {
	op       uint8
	dst, src uint8
	off      int16 // a jump's distance (instructions after the next), a load's offset
	imm      int32
}

// jumps reports whether i is a conditional jump, whose off Program sets.
func (i insn) jumps() bool {
	return i.op&0x07 == unix.BPF_JMP && i.op&0xf0 != unix.BPF_EXIT
}

func loadWord(dst, src uint8, off int16) insn {
	return insn{op: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, dst: dst, src: src, off: off}
}
func alu64Imm(op uint8, dst uint8, imm int32) insn {
	return insn{op: unix.BPF_ALU64 | unix.BPF_K | op, dst: dst, imm: imm}
}
func movReg(dst, src uint8) insn {
	return insn{op: unix.BPF_ALU64 | unix.BPF_X | unix.BPF_MOV, dst: dst, src: src}
}

// movImm32 sets the low 32 bits of dst and zeroes the rest.
func movImm32(dst uint8, imm int32) insn {
	return insn{op: unix.BPF_ALU | unix.BPF_K | unix.BPF_MOV, dst: dst, imm: imm}
}
func jneImm(dst uint8, imm int32) insn {
	return insn{op: unix.BPF_JMP | unix.BPF_K | unix.BPF_JNE, dst: dst, imm: imm}
}
func jneReg(dst, src uint8) insn {
	return insn{op: unix.BPF_JMP | unix.BPF_X | unix.BPF_JNE, dst: dst, src: src}
}
func exit() insn { return insn{op: unix.BPF_JMP | unix.BPF_EXIT} }

// insnSize is the size of struct bpf_insn.
const insnSize = 8

// marshal encodes insns in the host's byte order, as bpf(2) takes them.
func marshal(insns []insn) []byte {
	b := make([]byte, 0, len(insns)*insnSize)
	for _, i := range insns {
		regs := i.dst&0x0f | i.src<<4
		if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
			regs = i.dst<<4 | i.src&0x0f // big endian: the bitfields swap
		}
		b = append(b, i.op, regs)
		b = binary.NativeEndian.AppendUint16(b, uint16(i.off))
		b = binary.NativeEndian.AppendUint32(b, uint32(i.imm))
	}
	return b
}

// Program translates an allow-list into a BPF_PROG_TYPE_CGROUP_DEVICE
// program, the cgroup v2 form of what ApplyV1 writes, encoded for bpf(2):
// it returns 1 (allow) when some rule matches the request's type, numbers
// and access, else 0 (deny). So, like a v1 list after DenyAll, anything
// not listed is refused.
//
// A rule matches when its type is the request's ('a' matches both block
// and character devices), each number is the request's or Wildcard, and
// the request's access bits are a subset of the rule's. A type 'a' rule
// matches every device whatever its numbers, as "a" written to
// devices.allow does, with access "rwm" when it lists none.
func Program(rules []Rule) ([]byte, error) {
	insns := []insn{
		loadWord(regType, r1, ctxAccessType),
		alu64Imm(unix.BPF_AND, regType, 0xffff),
		loadWord(regAccess, r1, ctxAccessType),
		alu64Imm(unix.BPF_RSH, regAccess, 16),
		loadWord(regMajor, r1, ctxMajor),
		loadWord(regMinor, r1, ctxMinor),
	}
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		// Each rule's checks jump to the next rule's first instruction,
		// right after this rule's block, on a mismatch; after the last
		// rule comes the final deny.
		block := append(ruleChecks(r), alu64Imm(unix.BPF_MOV, r0, 1), exit())
		for k := range block {
			if block[k].jumps() {
				block[k].off = int16(len(block) - k - 1)
			}
		}
		insns = append(insns, block...)
		if len(block) == 2 {
			// It matches everything: what follows could never run, and
			// the verifier refuses unreachable instructions.
			return marshal(insns), nil
		}
	}
	insns = append(insns, alu64Imm(unix.BPF_MOV, r0, 0), exit())
	return marshal(insns), nil
}

// ruleChecks are r's conditions, each a jump past the rule when it fails.
func ruleChecks(r Rule) []insn {
	var c []insn
	switch r.Type {
	case 'b':
		c = append(c, jneImm(regType, devBlock))
	case 'c':
		c = append(c, jneImm(regType, devChar))
	}
	if allowed := accessBits(r); allowed != accAll {
		// A request bit outside the rule's set fails the rule.
		c = append(c,
			movReg(regTmp, regAccess),
			alu64Imm(unix.BPF_AND, regTmp, int32(accAll&^allowed)),
			jneImm(regTmp, 0),
		)
	}
	if r.Type == 'a' {
		return c
	}
	c = append(c, numberCheck(regMajor, r.Major)...)
	return append(c, numberCheck(regMinor, r.Minor)...)
}

// numberCheck jumps unless reg (a u32 from the context) is n; Wildcard
// needs no check.
func numberCheck(reg uint8, n int64) []insn {
	switch {
	case n == Wildcard:
		return nil
	case n <= math.MaxInt32:
		return []insn{jneImm(reg, int32(n))}
	}
	// A 64-bit compare sign-extends its 32-bit immediate: put the number,
	// zero-extended, in a register instead.
	return []insn{movImm32(regTmp, int32(uint32(n))), jneReg(reg, regTmp)}
}

// accessBits is r's access as the kernel's BPF_DEVCG_ACC_* bits.
func accessBits(r Rule) int32 {
	if r.Type == 'a' && r.Access == "" {
		return accAll
	}
	var bits int32
	for _, c := range r.Access {
		switch c {
		case 'm':
			bits |= accMknod
		case 'r':
			bits |= accRead
		case 'w':
			bits |= accWrite
		}
	}
	return bits
}
