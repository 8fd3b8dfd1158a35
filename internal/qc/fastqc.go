package qc

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// FastQCVersion is the FastQC release whose fastqc_data.txt layout and
// arithmetic WriteFastQC follows.
const FastQCVersion = "0.11.9"

// group is a 1-based, inclusive range of positions or lengths.
type group struct{ lo, hi int }

func (g group) String() string {
	if g.lo == g.hi {
		return strconv.Itoa(g.lo)
	}
	return fmt.Sprintf("%d-%d", g.lo, g.hi)
}

// positionGroups groups positions 1..n as FastQC does by default: up to 75
// each on its own; beyond, the first nine alone and the rest in equal
// intervals (2, 5, 10, 20, 50, ... bases) chosen to make fewer than 75
// groups.
func positionGroups(n int) []group {
	var groups []group
	if n <= 75 {
		for p := 1; p <= n; p++ {
			groups = append(groups, group{p, p})
		}
		return groups
	}
	interval := linearInterval(n)
	for start := 1; start <= n; {
		end := start + interval - 1
		switch {
		case start < 10:
			end = start
		case start == 10 && interval > 10:
			end = interval - 1
		}
		groups = append(groups, group{start, min(end, n)})
		switch {
		case start < 10:
			start++
		case start == 10 && interval > 10:
			start = interval
		default:
			start += interval
		}
	}
	return groups
}

func linearInterval(n int) int {
	for multiplier := 1; ; multiplier *= 10 {
		for _, base := range []int{2, 5, 10} {
			interval := base * multiplier
			groups := 9 + (n-9)/interval
			if (n-9)%interval != 0 {
				groups++
			}
			if groups < 75 {
				return interval
			}
		}
	}
}

// lengthGroups groups the lengths from lo to hi into intervals of 1, 2, 5,
// 10, 20, ... as FastQC's length distribution does: the interval is chosen
// for at most 50 groups up to hi+1, and the last group reaches to hi+1.
func lengthGroups(lo, hi int) []group {
	top := hi + 1
	interval := 1
	for base := 1; ; base *= 10 {
		found := false
		for _, d := range []int{1, 2, 5} {
			if (top-lo)/(base*d) <= 50 {
				interval, found = base*d, true
				break
			}
		}
		if found {
			break
		}
	}
	var groups []group
	for start := lo / interval * interval; start <= hi; start += interval {
		groups = append(groups, group{start, min(start+interval-1, top)})
	}
	return groups
}

// javaDouble formats v as Java's Double.toString does, which is how
// FastQC prints every number in its tables.
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		if v > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	if a := math.Abs(v); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(v, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// WriteFastQC writes the modules of FastQC's fastqc_data.txt that Reads
// computes (every one but per-tile quality, adapter content and k-mers;
// over-represented sequences without their possible source) for a file
// named name, with each module's pass/warn/fail as FastQC's default
// limits decide it.
func WriteFastQC(w io.Writer, name string, r *Reads) error {
	return WriteFastQCReport(w, name, r.Report())
}

// WriteFastQCReport is WriteFastQC from a report, as stored.
func WriteFastQCReport(w io.Writer, name string, rep *ReadsReport) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "##FastQC\t%s\n", FastQCVersion)
	module := func(title, status, columns string) {
		fmt.Fprintf(bw, ">>%s\t%s\n#%s\n", title, status, columns)
	}
	end := func() { bw.WriteString(">>END_MODULE\n") }

	module("Basic Statistics", "pass", "Measure\tValue")
	length := strconv.Itoa(rep.MinLength)
	if rep.MaxLength != rep.MinLength {
		length += "-" + strconv.Itoa(rep.MaxLength)
	}
	fmt.Fprintf(bw, "Filename\t%s\nFile type\tConventional base calls\nEncoding\t%s\nTotal Sequences\t%d\n"+
		"Sequences flagged as poor quality\t0\nSequence length\t%s\n%%GC\t%d\n",
		name, rep.Encoding, rep.Reads, length, int(rep.GCPercent))
	end()

	groups := positionGroups(len(rep.Positions))
	type quality struct{ mean, median, lq, uq, p10, p90 float64 }
	qualities := make([]quality, len(groups))
	status := "pass"
	for i, g := range groups {
		q := &qualities[i]
		q.mean = groupMean(rep.Positions, g, func(p *PositionStats) float64 { return p.Mean })
		q.median = groupPercentile(rep.Positions, g, func(p *PositionStats) int { return p.Median })
		q.lq = groupPercentile(rep.Positions, g, func(p *PositionStats) int { return p.LowerQuartile })
		q.uq = groupPercentile(rep.Positions, g, func(p *PositionStats) int { return p.UpperQuartile })
		q.p10 = groupPercentile(rep.Positions, g, func(p *PositionStats) int { return p.Percentile10 })
		q.p90 = groupPercentile(rep.Positions, g, func(p *PositionStats) int { return p.Percentile90 })
		status = worse(status, grade(q.lq, 10, 5, false), grade(q.median, 25, 20, false))
	}
	module("Per base sequence quality", status, "Base\tMean\tMedian\tLower Quartile\tUpper Quartile\t10th Percentile\t90th Percentile")
	for i, g := range groups {
		q := qualities[i]
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g, javaDouble(q.mean), javaDouble(q.median),
			javaDouble(q.lq), javaDouble(q.uq), javaDouble(q.p10), javaDouble(q.p90))
	}
	end()

	mode, modeCount := 0, int64(-1)
	for _, mq := range rep.MeanQualities {
		if mq.Count > modeCount {
			mode, modeCount = mq.Quality, mq.Count
		}
	}
	module("Per sequence quality scores", grade(float64(mode), 27, 20, false), "Quality\tCount")
	if len(rep.MeanQualities) > 0 {
		counts := map[int]int64{}
		for _, mq := range rep.MeanQualities {
			counts[mq.Quality] = mq.Count
		}
		for q := rep.MeanQualities[0].Quality; q <= rep.MeanQualities[len(rep.MeanQualities)-1].Quality; q++ {
			fmt.Fprintf(bw, "%d\t%s\n", q, javaDouble(float64(counts[q])))
		}
	}
	end()

	content := make([][5]float64, len(groups)) // G A T C N, percent
	status, nStatus := "pass", "pass"
	for i, g := range groups {
		var sum [5]int64
		for _, p := range rep.Positions[g.lo-1 : g.hi] {
			sum[0] += p.G
			sum[1] += p.A
			sum[2] += p.T
			sum[3] += p.C
			sum[4] += p.N
		}
		acgt := sum[0] + sum[1] + sum[2] + sum[3]
		for b := 0; b < 4; b++ {
			content[i][b] = float64(sum[b]) / float64(acgt) * 100
		}
		content[i][4] = float64(sum[4]) / float64(acgt+sum[4]) * 100
		c := content[i]
		status = worse(status, grade(math.Max(math.Abs(c[0]-c[3]), math.Abs(c[1]-c[2])), 10, 20, true))
		nStatus = worse(nStatus, grade(c[4], 5, 20, true))
	}
	module("Per base sequence content", status, "Base\tG\tA\tT\tC")
	for i, g := range groups {
		c := content[i]
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\t%s\n", g, javaDouble(c[0]), javaDouble(c[1]), javaDouble(c[2]), javaDouble(c[3]))
	}
	end()

	module("Per sequence GC content", grade(gcDeviation(rep.GCDistribution), 15, 30, true), "GC Content\tCount")
	for p, v := range rep.GCDistribution {
		fmt.Fprintf(bw, "%d\t%s\n", p, javaDouble(v))
	}
	end()

	module("Per base N content", nStatus, "Base\tN-Count")
	for i, g := range groups {
		fmt.Fprintf(bw, "%s\t%s\n", g, javaDouble(content[i][4]))
	}
	end()

	status = "pass"
	if rep.MinLength != rep.MaxLength {
		status = "warn"
	}
	if rep.MinLength == 0 && rep.Reads > 0 {
		status = "fail"
	}
	module("Sequence Length Distribution", status, "Length\tCount")
	if rep.Reads > 0 {
		counts := map[int]int64{}
		for _, lc := range rep.Lengths {
			counts[lc.Length] = lc.Count
		}
		for _, g := range lengthGroups(rep.MinLength, rep.MaxLength) {
			var n int64
			for l := g.lo; l <= g.hi; l++ {
				n += counts[l]
			}
			fmt.Fprintf(bw, "%s\t%s\n", g, javaDouble(float64(n)))
		}
	}
	end()

	if d := rep.Duplication; d != nil {
		fmt.Fprintf(bw, ">>Sequence Duplication Levels\t%s\n", grade(d.TotalDeduplicatedPercent, 70, 50, false))
		fmt.Fprintf(bw, "#Total Deduplicated Percentage\t%s\n", twoDecimals(d.TotalDeduplicatedPercent))
		bw.WriteString("#Duplication Level\tPercentage of deduplicated\tPercentage of total\n")
		for _, l := range d.Levels {
			fmt.Fprintf(bw, "%s\t%s\t%s\n", l.Level, javaDouble(l.PercentOfDeduplicated), javaDouble(l.PercentOfTotal))
		}
		end()
	}
	status = "pass"
	if len(rep.Overrepresented) > 0 {
		status = grade(rep.Overrepresented[0].Percent, overrepresentedPercent, overrepresentedFailPercent, true)
	}
	fmt.Fprintf(bw, ">>Overrepresented sequences\t%s\n", status)
	if len(rep.Overrepresented) > 0 {
		// FastQC also names a possible source from its list of
		// contaminants; this report does not look sequences up.
		bw.WriteString("#Sequence\tCount\tPercentage\tPossible Source\n")
		for _, o := range rep.Overrepresented {
			fmt.Fprintf(bw, "%s\t%d\t%s\tNo Hit\n", o.Sequence, o.Count, javaDouble(o.Percent))
		}
	}
	end()
	return bw.Flush()
}

// groupMean is the mean over a group's positions of a per-position value,
// positions no quality reaches left out, as FastQC averages a group.
func groupMean(ps []PositionStats, g group, value func(*PositionStats) float64) float64 {
	var total float64
	n := 0
	for i := g.lo - 1; i < g.hi; i++ {
		if ps[i].Qualities > 0 {
			total += value(&ps[i])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return total / float64(n)
}

// groupPercentile averages a per-position percentile over the positions
// of a group that more than 100 qualities reach; FastQC calls it NaN when
// none does.
func groupPercentile(ps []PositionStats, g group, value func(*PositionStats) int) float64 {
	var total float64
	n := 0
	for i := g.lo - 1; i < g.hi; i++ {
		if ps[i].Qualities > 100 {
			total += float64(value(&ps[i]))
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return total / float64(n)
}

// grade says pass, warn or fail for v against FastQC's limits; high means
// larger values are worse. NaN passes.
func grade(v, warn, fail float64, high bool) string {
	if !high {
		v, warn, fail = -v, -warn, -fail
	}
	switch {
	case v > fail:
		return "fail"
	case v > warn:
		return "warn"
	}
	return "pass"
}

func worse(statuses ...string) string {
	rank := map[string]int{"pass": 0, "warn": 1, "fail": 2}
	w := "pass"
	for _, s := range statuses {
		if rank[s] > rank[w] {
			w = s
		}
	}
	return w
}

// gcDeviation is how far, in percent of all reads, the GC distribution
// lies from a normal distribution centred on its mode and spread as it
// is: the measure FastQC grades "Per sequence GC content" by. The mode is
// the mean of the percentages next to the highest that stay above 90% of
// it, unless that run reaches either end of the scale.
func gcDeviation(dist []float64) float64 {
	var total float64
	first := 0
	for p, v := range dist {
		total += v
		if v > dist[first] {
			first = p
		}
	}
	if total == 0 {
		return 0
	}
	near := dist[first] - dist[first]/10
	var mode float64
	n := 0
	offTop, offBottom := true, true
	for p := first; p < len(dist); p++ {
		if dist[p] <= near {
			offTop = false
			break
		}
		mode += float64(p)
		n++
	}
	for p := first - 1; p >= 0; p-- {
		if dist[p] <= near {
			offBottom = false
			break
		}
		mode += float64(p)
		n++
	}
	if offTop || offBottom {
		mode = float64(first)
	} else {
		mode /= float64(n)
	}
	var variance float64
	for p, v := range dist {
		variance += (float64(p) - mode) * (float64(p) - mode) * v
	}
	sd := math.Sqrt(variance / (total - 1))
	var deviation float64
	for p, v := range dist {
		x := float64(p) - mode
		expected := total * math.Exp(-x*x/(2*sd*sd)) / math.Sqrt(2*math.Pi*sd*sd)
		deviation += math.Abs(expected - v)
	}
	return deviation / total * 100
}
