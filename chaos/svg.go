package chaos

// The picture: one self-contained SVG file (no scripts, fonts or links), so
// it opens in any browser and survives as a CI artifact. One lane per
// elector with its elected intervals, then one per condition with the
// spans in which it did not hold; fault windows shaded across all lanes
// (Jepsen's nemesis bands); overlaps in red, at least 3 px wide however
// short, so a 0.2 ms overlap in a 3-minute run is still seen. Every shape
// has a <title>, shown as a tooltip, with exact times.

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// EnvArtifacts names the directory where reports' pictures are written
// (SaveSVG with ""); unset, they go to the working directory — the package
// directory under go test and ginkgo, next to the suite's own reports.
const EnvArtifacts = "CHAOS_ARTIFACTS"

const (
	svgWidth  = 1200
	svgLeft   = 110 // room for the lane labels
	svgRight  = 20
	svgTop    = 46 // the axis and the fault labels
	svgLane   = 26
	svgLaneGp = 8
)

// SVG renders the report as a standalone SVG timeline.
func (r Report) SVG() string {
	var b strings.Builder
	_ = r.writeSVG(&b)
	return b.String()
}

// writeSVG writes the report as a standalone SVG timeline to w: the layers
// are drawn back to front, each by a method of svgPlot.
func (r Report) writeSVG(w io.Writer) error {
	p := newSVGPlot(r)
	p.header()
	p.axis()
	p.faults()
	p.electorLanes()
	p.conditionLanes()
	p.longGaps()
	p.overlaps()
	p.regressions()
	p.legend()
	p.printf("</svg>\n")
	_, err := io.WriteString(w, p.b.String())
	return err
}

// svgPlot is a picture being drawn: the report, the geometry that maps its
// times to x and its lanes to y, and the text so far.
type svgPlot struct {
	r      Report
	span   time.Duration
	lanes  int // electors, then conditions
	lanesH int
	height int
	b      strings.Builder
}

func newSVGPlot(r Report) *svgPlot {
	p := &svgPlot{r: r, span: r.End.Sub(r.Start), lanes: len(r.Electors) + len(r.Conditions)}
	if p.span <= 0 {
		p.span = time.Millisecond
	}
	p.lanesH = p.lanes*(svgLane+svgLaneGp) + svgLaneGp
	p.height = svgTop + p.lanesH + 70 + 16*len(r.Conditions) // a summary line per condition
	return p
}

func (p *svgPlot) printf(format string, a ...any) { fmt.Fprintf(&p.b, format, a...) }

// x is the abscissa of t, clamped to the plot.
func (p *svgPlot) x(t time.Time) float64 {
	plot := float64(svgWidth - svgLeft - svgRight)
	return svgLeft + plot*math.Max(0, math.Min(1, float64(t.Sub(p.r.Start))/float64(p.span)))
}

// wid is the width of from..to (to zero: the end), at least minW pixels, so
// a short span is still seen.
func (p *svgPlot) wid(from, to time.Time, minW float64) float64 {
	if to.IsZero() {
		to = p.r.End
	}
	return math.Max(p.x(to)-p.x(from), minW)
}

// laneY is the top of lane i: electors first, then conditions.
func (p *svgPlot) laneY(i int) int { return svgTop + svgLaneGp + i*(svgLane+svgLaneGp) }

var esc = html.EscapeString

func (p *svgPlot) header() {
	p.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgWidth, p.height, svgWidth, p.height)
	p.printf(`<title>%s</title>`+"\n", esc("chaos report: "+p.r.Summary()))
	p.printf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
}

// axis draws about ten ticks at a round step.
func (p *svgPlot) axis() {
	step := tickStep(p.span)
	for t := time.Duration(0); t <= p.span; t += step {
		tx := p.x(p.r.Start.Add(t))
		p.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", tx, svgTop-6, tx, svgTop+p.lanesH)
		p.printf(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", tx, svgTop-10, esc(fmtOffset(t)))
	}
}

// faults shades the fault windows behind every lane.
func (p *svgPlot) faults() {
	for _, f := range p.r.Faults {
		fx, fw := p.x(f.Start), p.wid(f.Start, f.End, 2)
		fill := "#b0b0b0"
		if f.Err != nil {
			fill = "#e0a040"
		}
		p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.35"><title>%s</title></rect>`+"\n",
			fx, svgTop, fw, p.lanesH, fill, esc(fmt.Sprintf("%s, %s to %s", f, p.r.rel(f.Start), p.r.rel(f.End))))
		if fw > 30 {
			p.printf(`<text x="%.1f" y="%d" fill="#444" font-size="10">%s</text>`+"\n", fx+2, svgTop-24, esc(clip(f.What(), int(fw/6))))
		}
	}
}

// lane draws lane i's label and baseline.
func (p *svgPlot) lane(i int, label, style string) int {
	y := p.laneY(i)
	p.printf(`<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle"%s>%s</text>`+"\n", svgLeft-8, y+svgLane/2, style, esc(clip(label, 16)))
	p.printf(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`+"\n", svgLeft, y+svgLane, svgWidth-svgRight, y+svgLane)
	return y
}

// electorLanes draws each elector's elected intervals, with their tokens.
func (p *svgPlot) electorLanes() {
	r := p.r
	for i, id := range r.Electors {
		y := p.lane(i, id, "")
		if i >= len(r.Lanes) {
			continue
		}
		for _, iv := range r.Lanes[i] {
			ix, iw := p.x(iv.From), p.wid(iv.From, iv.To, 1)
			what := fmt.Sprintf("%s elected %s to %s (%v)", id, r.rel(iv.From), r.rel(iv.To), iv.Duration().Round(100*time.Microsecond))
			if iv.Token != 0 {
				what += fmt.Sprintf(", token %d", iv.Token)
			}
			p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#2e7d32"><title>%s</title></rect>`+"\n", ix, y+3, iw, svgLane-6, esc(what))
			if iv.Token != 0 && iw > 40 {
				p.printf(`<text x="%.1f" y="%d" fill="white" font-size="10" dominant-baseline="middle">%d</text>`+"\n", ix+3, y+svgLane/2, iv.Token)
			}
		}
	}
}

// conditionLanes draws each condition below the electors: a pale band
// where it held, its false spans in orange, and red where one outlasted
// MaxFalse (at least 3 px wide, like an overlap).
func (p *svgPlot) conditionLanes() {
	r := p.r
	for j, c := range r.Conditions {
		y := p.lane(len(r.Electors)+j, c.Name, ` font-style="italic"`)
		p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#c8e6c9"><title>%s</title></rect>`+"\n",
			p.x(r.Start), y+3, p.wid(r.Start, r.End, 1), svgLane-6, esc(c.Summary()))
		for _, f := range c.False {
			fill, minW, what := "#fb8c00", 2.0, "false"
			if f.Duration() > c.MaxFalse {
				fill, minW, what = "#d32f2f", 3.0, "NOT HELD: false"
			}
			title := fmt.Sprintf("%s %s %s to %s (%v; bound %v)", c.Name, what, r.rel(f.From), r.rel(f.To), short(f.Duration()), c.MaxFalse)
			p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				p.x(f.From), y+3, p.wid(f.From, f.To, minW), svgLane-6, fill, esc(title))
		}
	}
}

// longGaps draws the leaderless gaps over MaxGap as an amber band under
// the lanes.
func (p *svgPlot) longGaps() {
	gy := svgTop + p.lanesH + 4
	for _, g := range p.r.LongGaps() {
		p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="8" fill="#f9a825"><title>%s</title></rect>`+"\n",
			p.x(g.From), gy, p.wid(g.From, g.To, 2), esc(fmt.Sprintf("no leader for %v from %s (over %v)", g.Duration().Round(time.Millisecond), p.r.rel(g.From), p.r.MaxGap)))
	}
}

// overlaps draws each overlap on top, in red, across the lanes and on each
// elector that took part.
func (p *svgPlot) overlaps() {
	r := p.r
	for _, o := range r.Overlaps {
		ox, ow := p.x(o.From), p.wid(o.From, o.To, 3)
		title := esc(fmt.Sprintf("OVERLAP: %s elected at once for %v, %s to %s", strings.Join(o.IDs, ", "), o.Duration(), r.rel(o.From), r.rel(o.To)))
		p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#d32f2f" fill-opacity="0.25"><title>%s</title></rect>`+"\n", ox, svgTop, ow, p.lanesH, title)
		for _, id := range o.IDs {
			if i := indexOf(r.Electors, id); i >= 0 {
				p.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#d32f2f"><title>%s</title></rect>`+"\n", ox, p.laneY(i), ow, svgLane, title)
			}
		}
	}
}

// regressions marks each token regression with a red triangle on its lane.
func (p *svgPlot) regressions() {
	r := p.r
	for _, g := range r.Regressions {
		if i := indexOf(r.Electors, g.ID); i >= 0 {
			p.printf(`<path d="M%.1f %d l6 -10 h-12 z" fill="#d32f2f"><title>%s</title></path>`+"\n", p.x(g.At), p.laneY(i)+2,
				esc(fmt.Sprintf("TOKEN REGRESSION at %s: %s elected with token %d, not above %s's %d", r.rel(g.At), g.ID, g.Token, g.PrevID, g.PrevToken)))
		}
	}
}

// legend names the colours in use, then the summary.
func (p *svgPlot) legend() {
	type key struct{ fill, text string }
	var keys []key
	if len(p.r.Electors) > 0 {
		keys = append(keys, key{"#2e7d32", "elected"})
	}
	keys = append(keys, key{"#b0b0b0", "fault"})
	if len(p.r.Electors) > 0 {
		keys = append(keys, key{"#d32f2f", "two or more elected at once"}, key{"#f9a825", "leaderless over the bound"})
	}
	if len(p.r.Conditions) > 0 {
		keys = append(keys, key{"#c8e6c9", "condition holds"}, key{"#fb8c00", "condition false"}, key{"#d32f2f", "false over its bound"})
	}
	ly := svgTop + p.lanesH + 30
	lx := svgLeft
	for _, k := range keys {
		p.printf(`<rect x="%d" y="%d" width="14" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx, ly-9, k.fill, lx+18, ly, esc(k.text))
		lx += 18 + 7*len(k.text) + 16
	}
	// The summary, a line for the election and one per condition, so a
	// long one stays inside the picture.
	for i, s := range strings.Split(p.r.Summary(), "; ") {
		p.printf(`<text x="%d" y="%d" fill="#333">%s</text>`+"\n", svgLeft, ly+22+16*i, esc(s))
	}
}

var svgSeq atomic.Int64

// SaveSVG writes the picture to a new file in dir ("" means $CHAOS_ARTIFACTS,
// else the working directory) and returns its path.
func (r Report) SaveSVG(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(EnvArtifacts)
	}
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("chaos: write the report's picture: %w (set %s to a writable directory)", err, EnvArtifacts)
	}
	name := fmt.Sprintf("chaos-report-%s-%d-%d.svg", r.Start.Format("20060102-150405"), os.Getpid(), svgSeq.Add(1))
	path := filepath.Join(dir, name)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if err := os.WriteFile(path, []byte(r.SVG()), 0o644); err != nil {
		return "", fmt.Errorf("chaos: write the report's picture: %w (set %s to a writable directory)", err, EnvArtifacts)
	}
	return path, nil
}

func tickStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
		10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	} {
		if span/s <= 12 {
			return s
		}
	}
	return span / 10
}

func fmtOffset(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%gs", d.Seconds())
}

func clip(s string, n int) string {
	if n < 2 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}
