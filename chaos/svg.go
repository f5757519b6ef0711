package chaos

// The picture: one self-contained SVG file (no scripts, fonts or links), so
// it opens in any browser and survives as a CI artifact. One lane per
// elector with its elected intervals; fault windows shaded across all lanes
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

// writeSVG writes the report as a standalone SVG timeline to w.
func (r Report) writeSVG(w io.Writer) error {
	span := r.End.Sub(r.Start)
	if span <= 0 {
		span = time.Millisecond
	}
	plot := float64(svgWidth - svgLeft - svgRight)
	x := func(t time.Time) float64 {
		return svgLeft + plot*math.Max(0, math.Min(1, float64(t.Sub(r.Start))/float64(span)))
	}
	wid := func(from, to time.Time, minW float64) float64 {
		if to.IsZero() {
			to = r.End
		}
		return math.Max(x(to)-x(from), minW)
	}
	lanesH := len(r.Electors)*(svgLane+svgLaneGp) + svgLaneGp
	height := svgTop + lanesH + 70
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	esc := html.EscapeString
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgWidth, height, svgWidth, height)
	p(`<title>%s</title>`+"\n", esc("chaos report: "+r.Summary()))
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")

	// Time axis: about ten ticks at a round step.
	step := tickStep(span)
	for t := time.Duration(0); t <= span; t += step {
		tx := x(r.Start.Add(t))
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", tx, svgTop-6, tx, svgTop+lanesH)
		p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", tx, svgTop-10, esc(fmtOffset(t)))
	}

	// Fault windows, shaded behind the lanes.
	for _, f := range r.Faults {
		fx, fw := x(f.Start), wid(f.Start, f.End, 2)
		fill := "#b0b0b0"
		if f.Err != nil {
			fill = "#e0a040"
		}
		p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.35"><title>%s</title></rect>`+"\n",
			fx, svgTop, fw, lanesH, fill, esc(fmt.Sprintf("%s, %s to %s", f, r.rel(f.Start), r.rel(f.End))))
		if fw > 30 {
			p(`<text x="%.1f" y="%d" fill="#444" font-size="10">%s</text>`+"\n", fx+2, svgTop-24, esc(clip(f.What(), int(fw/6))))
		}
	}

	// Lanes.
	for i, id := range r.Electors {
		y := svgTop + svgLaneGp + i*(svgLane+svgLaneGp)
		p(`<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", svgLeft-8, y+svgLane/2, esc(clip(id, 16)))
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>`+"\n", svgLeft, y+svgLane, svgWidth-svgRight, y+svgLane)
		if i < len(r.Lanes) {
			for _, iv := range r.Lanes[i] {
				ix, iw := x(iv.From), wid(iv.From, iv.To, 1)
				what := fmt.Sprintf("%s elected %s to %s (%v)", id, r.rel(iv.From), r.rel(iv.To), iv.Duration().Round(100*time.Microsecond))
				if iv.Token != 0 {
					what += fmt.Sprintf(", token %d", iv.Token)
				}
				p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#2e7d32"><title>%s</title></rect>`+"\n", ix, y+3, iw, svgLane-6, esc(what))
				if iv.Token != 0 && iw > 40 {
					p(`<text x="%.1f" y="%d" fill="white" font-size="10" dominant-baseline="middle">%d</text>`+"\n", ix+3, y+svgLane/2, iv.Token)
				}
			}
		}
	}

	// Long leaderless gaps: an amber band under the lanes.
	gy := svgTop + lanesH + 4
	for _, g := range r.LongGaps() {
		p(`<rect x="%.1f" y="%d" width="%.1f" height="8" fill="#f9a825"><title>%s</title></rect>`+"\n",
			x(g.From), gy, wid(g.From, g.To, 2), esc(fmt.Sprintf("no leader for %v from %s (over %v)", g.Duration().Round(time.Millisecond), r.rel(g.From), r.MaxGap)))
	}

	// Overlaps and regressions on top, in red.
	for _, o := range r.Overlaps {
		ox, ow := x(o.From), wid(o.From, o.To, 3)
		title := esc(fmt.Sprintf("OVERLAP: %s elected at once for %v, %s to %s", strings.Join(o.IDs, ", "), o.Duration(), r.rel(o.From), r.rel(o.To)))
		p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#d32f2f" fill-opacity="0.25"><title>%s</title></rect>`+"\n", ox, svgTop, ow, lanesH, title)
		for _, id := range o.IDs {
			if i := indexOf(r.Electors, id); i >= 0 {
				y := svgTop + svgLaneGp + i*(svgLane+svgLaneGp)
				p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#d32f2f"><title>%s</title></rect>`+"\n", ox, y, ow, svgLane, title)
			}
		}
	}
	for _, g := range r.Regressions {
		if i := indexOf(r.Electors, g.ID); i >= 0 {
			y := svgTop + svgLaneGp + i*(svgLane+svgLaneGp)
			gx := x(g.At)
			p(`<path d="M%.1f %d l6 -10 h-12 z" fill="#d32f2f"><title>%s</title></path>`+"\n", gx, y+2, esc(fmt.Sprintf("TOKEN REGRESSION at %s: %s elected with token %d, not above %s's %d", r.rel(g.At), g.ID, g.Token, g.PrevID, g.PrevToken)))
		}
	}

	// Legend and summary.
	ly := gy + 26
	p(`<rect x="%d" y="%d" width="14" height="10" fill="#2e7d32"/><text x="%d" y="%d">elected</text>`+"\n", svgLeft, ly-9, svgLeft+18, ly)
	p(`<rect x="%d" y="%d" width="14" height="10" fill="#b0b0b0" fill-opacity="0.6"/><text x="%d" y="%d">fault</text>`+"\n", svgLeft+80, ly-9, svgLeft+98, ly)
	p(`<rect x="%d" y="%d" width="14" height="10" fill="#d32f2f"/><text x="%d" y="%d">two or more elected at once</text>`+"\n", svgLeft+150, ly-9, svgLeft+168, ly)
	p(`<rect x="%d" y="%d" width="14" height="10" fill="#f9a825"/><text x="%d" y="%d">leaderless over the bound</text>`+"\n", svgLeft+350, ly-9, svgLeft+368, ly)
	p(`<text x="%d" y="%d" fill="#333">%s</text>`+"\n", svgLeft, ly+22, esc(r.Summary()))
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
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
