// The parts of Apache ECharts the dashboard uses (tree-shaken by esbuild), drawn on canvas,
// with tooltips rendered in the canvas too (renderMode "richText"): no HTML built from
// strings, so the page works under a Content-Security-Policy without inline styles or eval.
import * as echarts from 'echarts/core';
import { BarChart, CustomChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  CalendarComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkPointComponent,
  TooltipComponent, VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart, CustomChart, HeatmapChart, LineChart, ScatterChart, CalendarComponent, GridComponent,
  LegendComponent, MarkAreaComponent, MarkPointComponent, TooltipComponent, VisualMapComponent,
  CanvasRenderer,
]);

const dark = window.matchMedia('(prefers-color-scheme: dark)');
const live = new Map();

/** The theme's colours, read from the page's CSS variables. */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const v = (name) => style.getPropertyValue(name).trim();
  return {
    text: v('--text'), muted: v('--muted'), line: v('--line'), accent: v('--accent'),
    bad: v('--bad'), good: v('--good'), panel: v('--panel'), dark: dark.matches,
  };
}

/** Draws `option` into the element with id `id` (replacing what was there). */
export function draw(id, option) {
  const el = document.getElementById(id);
  let chart = live.get(id);
  if (!chart || chart.isDisposed()) {
    chart = echarts.init(el, dark.matches ? 'dark' : null, { renderer: 'canvas' });
    live.set(id, chart);
  }
  const p = palette();
  chart.setOption({
    backgroundColor: 'transparent',
    textStyle: { color: p.text },
    tooltip: { renderMode: 'richText', confine: true },
    animation: false,
    ...option,
  }, true);
  // The colour ECharts draws the chart's text in, as applied (the browser tests compare the
  // light and dark themes with it).
  const applied = chart.getOption().textStyle;
  el.dataset.textColor = (Array.isArray(applied) ? applied[0] : applied)?.color || '';
  // How many data points the chart shows (the browser tests read it).
  const series = Array.isArray(option.series) ? option.series : [option.series];
  el.dataset.points = String(series.reduce((n, s) => n + (s && Array.isArray(s.data)
    ? s.data.filter((d) => d !== null && d !== undefined).length : 0), 0));
  return chart;
}

window.addEventListener('resize', () => live.forEach((c) => c.resize()));
dark.addEventListener('change', () => {
  // The theme is fixed at init: start again with the other one.
  live.forEach((c) => c.dispose());
  live.clear();
  window.dispatchEvent(new Event('hashchange'));
});
