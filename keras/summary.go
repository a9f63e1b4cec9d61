package keras

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gotfe/gotfe/backend"
)

// bytesPerParam is the size of a weight in the plain engine (float64).
const bytesPerParam = 8

// Summary writes Keras's summary table of the model to w: each layer's name and type, output
// shape and number of parameters, then the totals (with their size as float64 values), and
// last the engine the model runs on ([Sequential.Engine]).
func (m *Sequential) Summary(w io.Writer) error {
	if err := m.built("Summary"); err != nil {
		return err
	}
	rows := [][3]string{}
	var total, trainable int
	for i, l := range m.layers {
		n := 0
		for _, s := range m.specs[i] {
			k, _ := backend.NumElements(s.Shape)
			n += k
			if s.Trainable {
				trainable += k
			}
		}
		total += n
		rows = append(rows, [3]string{
			fmt.Sprintf("%s (%s)", l.Name(), l.ClassName()),
			backend.FormatShape(m.shapes[i]),
			commas(n),
		})
	}
	width := [3]int{31, 22, 13}
	head := [3]string{"Layer (type)", "Output Shape", "Param #"}
	for _, r := range append(rows, head) {
		for c := range r {
			width[c] = max(width[c], utf8.RuneCountInString(r[c]))
		}
	}
	line := func(l, mid, r, fill string) string {
		parts := make([]string, 3)
		for c := range parts {
			parts[c] = strings.Repeat(fill, width[c]+2)
		}
		return l + strings.Join(parts, mid) + r + "\n"
	}
	cells := func(sep string, r [3]string) string {
		return fmt.Sprintf("%s %-*s %s %-*s %s %*s %s\n", sep, width[0], r[0], sep, width[1], r[1], sep, width[2], r[2], sep)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Model: %q\n", m.name)
	sb.WriteString(line("┏", "┳", "┓", "━"))
	sb.WriteString(cells("┃", head))
	sb.WriteString(line("┡", "╇", "┩", "━"))
	for i, r := range rows {
		if i > 0 {
			sb.WriteString(line("├", "┼", "┤", "─"))
		}
		sb.WriteString(cells("│", r))
	}
	sb.WriteString(line("└", "┴", "┘", "─"))
	fmt.Fprintf(&sb, " Total params: %s (%s)\n", commas(total), memSize(total*bytesPerParam))
	fmt.Fprintf(&sb, " Trainable params: %s (%s)\n", commas(trainable), memSize(trainable*bytesPerParam))
	fmt.Fprintf(&sb, " Non-trainable params: %s (%s)\n", commas(total-trainable), memSize((total-trainable)*bytesPerParam))
	fmt.Fprintf(&sb, " Engine: %s\n", m.Engine())
	_, err := io.WriteString(w, sb.String())
	return err
}

// CountParams returns the number of weights of the model.
func (m *Sequential) CountParams() (int, error) {
	if err := m.built("CountParams"); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range m.weightSpecs() {
		k, _ := backend.NumElements(s.spec.Shape)
		n += k
	}
	return n, nil
}

// commas formats n with thousands separators, as Keras does.
func commas(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// memSize formats a byte count as Keras does: "795.08 KB".
func memSize(n int) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v := float64(n)
	for _, u := range units[:len(units)-1] {
		if v < 1024 {
			return fmt.Sprintf("%.2f %s", v, u)
		}
		v /= 1024
	}
	return fmt.Sprintf("%.2f %s", v, units[len(units)-1])
}
