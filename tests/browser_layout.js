(root, [panels, minimum]) => {
  // Run by tests/test_browser.py on an output: text whose contrast is below the minimum
  // (colours from getComputedStyle, translucent layers composited over the first opaque
  // background up the tree), text drawn outside its SVG figure, and the `panels` elements
  // wider than their box (scrollWidth > clientWidth).
  const parse = c => {
    const m = c.match(/rgba?\(([^)]*)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => top.slice(0, 3).map(
    (v, i) => v * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = node => {
    const layers = [];
    for (let e = node; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];  // the canvas under everything
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = c => c.slice(0, 3).map(v => v / 255).map(
    v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const low = [], clipped = [], wide = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const e = t.parentElement;
    if (!t.textContent.trim() || seen.has(e) || !e.getClientRects().length) continue;
    if (e.closest('style, title, option, select, input, textarea, details:not([open]) > :not(summary)')) continue;
    seen.add(e);
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden') continue;
    const inSvg = e instanceof SVGElement;
    const bg = background(inSvg ? e.closest('svg') : e);
    const fg = over(parse(inSvg ? style.fill : style.color) || [0, 0, 0, 1], bg);
    const r = ratio(fg, bg);
    if (r < minimum) low.push(`${r.toFixed(2)}: "${t.textContent.trim().slice(0, 40)}" ${style.color} on ${bg}`);
  }
  for (const svg of root.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBoundingClientRect();
      if (b.width && (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1 || b.bottom > box.bottom + 1))
        clipped.push(`"${text.textContent.slice(0, 40)}" ${b.left.toFixed(0)}..${b.right.toFixed(0)} outside ${box.left.toFixed(0)}..${box.right.toFixed(0)}`);
    }
  }
  for (const panel of root.querySelectorAll(panels)) {
    if (panel.getClientRects().length && panel.scrollWidth > panel.clientWidth + 1)
      wide.push(`${panel.className}: ${panel.scrollWidth} > ${panel.clientWidth}`);
  }
  return {low: low.slice(0, 10), clipped: clipped.slice(0, 10), wide};
}
