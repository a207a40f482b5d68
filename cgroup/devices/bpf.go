package devices

import (
	"fmt"
	"math"

	"github.com/cilium/ebpf/asm"
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

// Registers of the generated program: the request, unpacked once.
const (
	regType   = asm.R2
	regAccess = asm.R3
	regMajor  = asm.R4
	regMinor  = asm.R5
	regTmp    = asm.R1 // the context pointer, free once the request is read
)

// Program translates an allow-list into a BPF_PROG_TYPE_CGROUP_DEVICE
// program, the cgroup v2 form of what ApplyV1 writes: it returns 1 (allow)
// when some rule matches the request's type, numbers and access, else 0
// (deny). So, like a v1 list after DenyAll, anything not listed is refused.
//
// A rule matches when its type is the request's ('a' matches both block
// and character devices), each number is the request's or Wildcard, and
// the request's access bits are a subset of the rule's. A type 'a' rule
// matches every device whatever its numbers, as "a" written to
// devices.allow does, with access "rwm" when it lists none.
func Program(rules []Rule) (asm.Instructions, error) {
	insns := asm.Instructions{
		asm.LoadMem(regType, asm.R1, ctxAccessType, asm.Word),
		asm.And.Imm(regType, 0xffff),
		asm.LoadMem(regAccess, asm.R1, ctxAccessType, asm.Word),
		asm.RSh.Imm(regAccess, 16),
		asm.LoadMem(regMajor, asm.R1, ctxMajor, asm.Word),
		asm.LoadMem(regMinor, asm.R1, ctxMinor, asm.Word),
	}
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		// Each rule's checks jump to the next rule's first instruction on a
		// mismatch; the last "next" is the final deny.
		next := label(i + 1)
		block := ruleChecks(r, next)
		block = append(block, asm.Mov.Imm(asm.R0, 1), asm.Return())
		block[0] = block[0].WithSymbol(label(i))
		insns = append(insns, block...)
		if len(block) == 2 {
			// It matches everything: what follows could never run, and
			// the verifier refuses unreachable instructions.
			return insns, nil
		}
	}
	insns = append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol(label(len(rules))),
		asm.Return(),
	)
	return insns, nil
}

// ruleChecks are r's conditions, each a jump to next when it fails.
func ruleChecks(r Rule, next string) asm.Instructions {
	var c asm.Instructions
	switch r.Type {
	case 'b':
		c = append(c, asm.JNE.Imm(regType, devBlock, next))
	case 'c':
		c = append(c, asm.JNE.Imm(regType, devChar, next))
	}
	if allowed := accessBits(r); allowed != accAll {
		// A request bit outside the rule's set fails the rule.
		c = append(c,
			asm.Mov.Reg(regTmp, regAccess),
			asm.And.Imm(regTmp, int32(accAll&^allowed)),
			asm.JNE.Imm(regTmp, 0, next),
		)
	}
	if r.Type == 'a' {
		return c
	}
	c = append(c, numberCheck(regMajor, r.Major, next)...)
	return append(c, numberCheck(regMinor, r.Minor, next)...)
}

// numberCheck jumps to next unless reg (a u32 from the context) is n;
// Wildcard needs no check.
func numberCheck(reg asm.Register, n int64, next string) asm.Instructions {
	switch {
	case n == Wildcard:
		return nil
	case n <= math.MaxInt32:
		return asm.Instructions{asm.JNE.Imm(reg, int32(n), next)}
	}
	// A 64-bit compare sign-extends its 32-bit immediate: put the number,
	// zero-extended, in a register instead.
	return asm.Instructions{
		asm.Mov.Imm32(regTmp, int32(uint32(n))),
		asm.JNE.Reg(reg, regTmp, next),
	}
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

func label(i int) string { return fmt.Sprintf("rule%d", i) }
