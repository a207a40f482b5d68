package templates

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DIEvent is one message of debootstrap's --debian-installer protocol, which
// it writes to file descriptor 3 (see /usr/share/debootstrap/functions):
//
//	P: NOW END NAME          progress of stage NAME (PA: args, PF: format may follow)
//	I: NAME / IA: arg / IF: format    information (W: warning, E: error alike)
type DIEvent struct {
	Kind     byte   // 'P' progress, 'I' info, 'W' warning, 'E' error
	Name     string // the message or stage id: DOWNDEBS, RETRIEVING, ...
	Now, End int    // progress only
	Text     string // the formatted message (info, warning, error)
}

// DIParser turns protocol lines into events. The zero value is ready.
type DIParser struct {
	pending *DIEvent // an I:/W:/E: message waiting for its format line
	args    []string
}

// Feed takes one line and returns an event when the line completes one.
// Unknown lines are ignored: the protocol has grown over the years.
func (p *DIParser) Feed(line string) (DIEvent, bool) {
	tag, rest, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ": ")
	if !ok {
		return DIEvent{}, false
	}
	switch tag {
	case "P":
		f := strings.Fields(rest)
		if len(f) < 2 {
			return DIEvent{}, false
		}
		now, err1 := strconv.Atoi(f[0])
		end, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || now < 0 || end <= 0 {
			return DIEvent{}, false
		}
		ev := DIEvent{Kind: 'P', Now: min(now, end), End: end}
		if len(f) > 2 {
			ev.Name = f[2]
		}
		return ev, true
	case "I", "W", "E":
		p.pending = &DIEvent{Kind: tag[0], Name: strings.TrimSpace(rest)}
		p.args = nil
	case "IA", "WA", "EA":
		if p.pending != nil && p.pending.Kind == tag[0] {
			p.args = append(p.args, rest)
		}
	case "IF", "WF", "EF":
		if p.pending != nil && p.pending.Kind == tag[0] {
			ev := *p.pending
			ev.Text = printfS(rest, p.args)
			p.pending, p.args = nil, nil
			return ev, true
		}
	}
	return DIEvent{}, false
}

// printfS expands the shell printf format debootstrap sends: each %s, %d
// or %i takes the next argument, %% is a percent sign.
func printfS(format string, args []string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's', 'd', 'i':
			if len(args) > 0 {
				b.WriteString(args[0])
				args = args[1:]
			}
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// debootstrapStages groups debootstrap's progress ids into the steps a
// user sees, in the order debootstrap runs them.
var debootstrapStages = []struct {
	ids  []string
	desc string
}{
	{[]string{"DOWNREL", "DOWNRELSIG"}, "checking the release"},
	{[]string{"DOWNPKGS", "DOWNMAINPKGS", "SIZEDEBS"}, "reading package lists"},
	{[]string{"DOWNDEBS"}, "downloading packages"},
	{[]string{"EXTRACTPKGS"}, "extracting packages"},
	{[]string{"INSTCORE", "UNPACKREQ", "CONFREQ"}, "installing required packages"},
	{[]string{"UNPACKBASE", "CONFBASE"}, "installing the base system"},
}

// stageOf returns the 1-based step of progress id name, 0 if unknown.
func stageOf(name string) int {
	for i, s := range debootstrapStages {
		for _, id := range s.ids {
			if id == name {
				return i + 1
			}
		}
	}
	return 0
}

// progressReporter prints "template debian: [n/m] what NN% (now/end)"
// lines: one when a step starts and one per 10% within it, plus every
// warning and error, so minutes of debootstrap show steady progress
// without a line per package.
type progressReporter struct {
	w      io.Writer
	prefix string
	stage  int
	tenths int
}

func (r *progressReporter) event(ev DIEvent) {
	switch ev.Kind {
	case 'W', 'E':
		fmt.Fprintf(r.w, "%s%c: %s\n", r.prefix, ev.Kind, ev.Text)
	case 'P':
		st := stageOf(ev.Name)
		if st == 0 {
			st = r.stage // WGET% lines carry no id: they belong to the current step
		}
		if st == 0 {
			return
		}
		tenths := ev.Now * 10 / ev.End
		if st == r.stage && tenths <= r.tenths {
			return
		}
		if st < r.stage { // steps only move forward; a late line of an old one
			return
		}
		r.stage, r.tenths = st, tenths
		count := fmt.Sprintf("%d/%d", ev.Now, ev.End)
		if ev.End >= 1<<20 { // the download steps count bytes
			count = fmt.Sprintf("%.1f/%.1f MiB", float64(ev.Now)/(1<<20), float64(ev.End)/(1<<20))
		}
		fmt.Fprintf(r.w, "%s[%d/%d] %s %d%% (%s)\n", r.prefix, st, len(debootstrapStages),
			debootstrapStages[st-1].desc, ev.Now*100/ev.End, count)
	}
}
