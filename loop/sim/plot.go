package sim

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot draws a run as a PNG: SP and PV over ticks above, the units requested and executed
// (warmers up, coolers down) below, starved ticks shaded.
func Plot(w io.Writer, title string, rows []Row) error {
	top := plot.New()
	top.Title.Text = title
	top.X.Label.Text = "tick"
	top.Y.Label.Text = "metric"
	sp, pv := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	req, exe := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	for i, r := range rows {
		x := float64(r.Tick)
		sp[i] = plotter.XY{X: x, Y: r.SP}
		pv[i] = plotter.XY{X: x, Y: r.PV}
		req[i] = plotter.XY{X: x, Y: float64(r.Requested)}
		exe[i] = plotter.XY{X: x, Y: float64(r.Executed)}
	}
	spLine, err := plotter.NewLine(sp)
	if err != nil {
		return fmt.Errorf("plot SP: %w", err)
	}
	spLine.Color = plotColor(0)
	spLine.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	pvLine, err := plotter.NewLine(pv)
	if err != nil {
		return fmt.Errorf("plot PV: %w", err)
	}
	pvLine.Color = plotColor(1)
	top.Add(plotter.NewGrid(), spLine, pvLine)
	top.Legend.Add("SP", spLine)
	top.Legend.Add("PV", pvLine)
	top.Legend.Top = true

	bottom := plot.New()
	bottom.X.Label.Text = "tick"
	bottom.Y.Label.Text = "units (+warmer, -cooler)"
	reqLine, err := plotter.NewLine(req)
	if err != nil {
		return fmt.Errorf("plot requested: %w", err)
	}
	reqLine.Color = plotColor(2)
	exeLine, err := plotter.NewLine(exe)
	if err != nil {
		return fmt.Errorf("plot executed: %w", err)
	}
	exeLine.Color = plotColor(3)
	bottom.Add(plotter.NewGrid(), reqLine, exeLine)
	bottom.Legend.Add("requested", reqLine)
	bottom.Legend.Add("executed", exeLine)
	bottom.Legend.Top = true
	for i := 0; i < len(rows); i++ { // starved windows as shaded spans on the action panel
		if !rows[i].Starved {
			continue
		}
		j := i
		for j+1 < len(rows) && rows[j+1].Starved {
			j++
		}
		span, err := plotter.NewPolygon(plotter.XYs{
			{X: float64(rows[i].Tick), Y: bottom.Y.Min}, {X: float64(rows[j].Tick), Y: bottom.Y.Min},
			{X: float64(rows[j].Tick), Y: bottom.Y.Max}, {X: float64(rows[i].Tick), Y: bottom.Y.Max},
		})
		if err == nil {
			span.Color = plotColor(4)
			span.LineStyle.Width = 0
			bottom.Add(span)
		}
		i = j
	}
	if len(rows) > 0 {
		bottom.X.Min, bottom.X.Max = top.X.Min, top.X.Max
	}

	const width, height = 12 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{top}, {bottom}}
	canvases := plot.Align(plots, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

func plotColor(i int) color.Color {
	if i == 4 {
		return color.NRGBA{R: 160, G: 160, B: 160, A: 70}
	}
	return plotutil.Color(i)
}
