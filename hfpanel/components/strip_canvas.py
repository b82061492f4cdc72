"""StripCanvas: the status strips drawn on one <canvas> in the browser.

A HoloViews/Bokeh plot of the strips cost two to three seconds per page on a 100-module site
(10,000 rectangles, each validated, serialised and laid out, for every session). The strips are a
picture: this component sends one character per cell, the strip titles, the cell times and the
distinct hover texts, and draws them in a few milliseconds. A click comes back as (row, cell).
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

#: one character per cell in ``codes``
CODE = {"ok": "o", "warning": "w", "critical": "c", "noinfo": "n", "downtime": "d", "": "."}
#: a level's character in capitals: its result held from an earlier run; ``MISSING``: no run when one was due
MISSING = "x"


class StripCanvas(JSComponent):
    """The strips as a canvas: ``codes`` is row-major, ``len(labels) * n_cells`` characters."""

    codes = param.String(default="", doc="One character per cell: CODE, in capitals when held, MISSING.")
    n_cells = param.Integer(default=0)
    labels = param.List(default=[], doc="One label per strip (categories in capitals).")
    kinds = param.List(default=[], doc="'category' or 'module' per strip (categories are drawn bold).")
    ticks = param.List(default=[], doc="[cell, label] per cell for the time axis; the browser labels as many as fit.")
    when = param.List(default=[], doc="The run (or bin of runs) of each cell, as text.")
    texts = param.List(default=[], doc="Distinct hover texts (level · status · message).")
    text_of = param.List(default=[], doc="Index into ``texts`` per cell (row-major), -1 for none.")
    colors = param.Dict(default={})
    marked = param.Integer(default=-1, doc="The cell of the viewed run, outlined (-1: none).")
    row_px = param.Integer(default=17)

    _esm = """
    export function render({ model, el }) {
      const wrap = document.createElement('div')
      wrap.style.position = 'relative'
      const canvas = document.createElement('canvas')
      canvas.className = 'hf-strip'
      canvas.style.display = 'block'
      canvas.style.cursor = 'pointer'
      const tip = document.createElement('div')
      tip.className = 'hf-strip-tip'
      tip.style.cssText = 'position:absolute;display:none;pointer-events:none;background:#fff;' +
        'border:1px solid #bdc1c6;border-radius:4px;padding:4px 8px;font:13px system-ui,sans-serif;' +
        'box-shadow:0 1px 3px rgba(60,64,67,.3);max-width:420px;white-space:pre-line;z-index:10'
      wrap.append(canvas, tip)
      const TOP = 4, AXIS = 22, LABEL_LINE = 15, LABEL_SHARE = 0.45, FONT = '12px system-ui, sans-serif'
      let geo = {left: 0, cellw: 1, pitch: model.row_px, labelh: 0}

      function fit(ctx, text, room) {
        // the text as it fits into room px: whole, in a font up to 2px smaller (a long module title
        // on a phone), or only then cut with an ellipsis (counted in data-cut); leaves ctx.font as drawn
        const weight = ctx.font.startsWith('bold') ? 'bold ' : ''
        for (let size = 12; size >= 10; size -= 0.5) {
          ctx.font = weight + size + 'px system-ui, sans-serif'
          if (ctx.measureText(text).width <= room) return [text, false]
        }
        let lo = 0, hi = text.length
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2)
          if (ctx.measureText(text.slice(0, mid) + '…').width <= room) lo = mid; else hi = mid - 1
        }
        return [text.slice(0, lo) + '…', true]
      }

      function draw() {
        const rows = model.labels.length, n = model.n_cells, rh = model.row_px
        const width = Math.max(200, wrap.clientWidth || el.clientWidth || 800)
        const ctx = canvas.getContext('2d')
        // labels beside the cells when the widest fits into LABEL_SHARE of the width, else each
        // strip's label on a line of its own above its cells (a phone): never cut, never over a cell
        let labelw = 0
        for (let r = 0; r < rows; r++) {
          ctx.font = (model.kinds[r] === 'category' ? 'bold ' : '') + FONT
          labelw = Math.max(labelw, ctx.measureText(model.labels[r]).width)
        }
        const beside = Math.ceil(labelw) + 12 <= width * LABEL_SHARE
        const left = beside ? Math.ceil(labelw) + 12 : 2
        const labelh = beside ? 0 : LABEL_LINE
        const pitch = rh + labelh
        const height = TOP + rows * pitch + AXIS
        const ratio = window.devicePixelRatio || 1
        canvas.width = width * ratio; canvas.height = height * ratio
        canvas.style.width = width + 'px'; canvas.style.height = height + 'px'
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
        ctx.clearRect(0, 0, width, height)
        const cellw = n ? (width - left - 4) / n : 1
        const gap = cellw >= 3 ? 1 : 0
        geo = {left, cellw, pitch, labelh}
        Object.assign(canvas.dataset, {left, top: TOP + labelh, cellw, rowh: pitch, labelh, rows, cells: n,
                                       layout: beside ? 'beside' : 'above', labelw: Math.ceil(labelw)})
        let cut = 0
        ctx.textBaseline = 'middle'
        for (let r = 0; r < rows; r++) {
          const y = TOP + r * pitch, top = y + labelh
          ctx.fillStyle = '#202124'
          ctx.font = (model.kinds[r] === 'category' ? 'bold ' : '') + FONT
          const label = beside ? model.labels[r] : model.labels[r].trim()
          const [text, wasCut] = fit(ctx, label, beside ? left - 8 : width - 4)
          if (wasCut) cut++
          ctx.fillText(text, 2, beside ? y + rh / 2 : y + labelh / 2 + 1)
          for (let c = 0; c < n; c++) {
            const code = model.codes[r * n + c], x = left + c * cellw
            if (code === 'x') {  // a run that should have brought a result and did not
              ctx.fillStyle = model.colors[code] || '#ffffff'
              ctx.fillRect(x + gap / 2, top + 1, Math.max(cellw - gap, 0.5), rh - 2)
              ctx.strokeStyle = '#5f6368'; ctx.lineWidth = 1
              ctx.strokeRect(x + gap / 2 + 0.5, top + 1.5, Math.max(cellw - gap - 1, 0.5), rh - 3)
              ctx.beginPath(); ctx.moveTo(x + gap / 2 + 1, top + 2); ctx.lineTo(x + cellw - gap / 2 - 1, top + rh - 2)
              ctx.moveTo(x + gap / 2 + 1, top + rh - 2); ctx.lineTo(x + cellw - gap / 2 - 1, top + 2); ctx.stroke()
              continue
            }
            ctx.fillStyle = model.colors[code] || '#f1f3f4'
            if (code !== '.' && code === code.toUpperCase())  // held: the last result carries on, as solid as
              ctx.fillRect(x - gap / 2, top + 1, cellw, rh - 2)  // the run that gave it, joined to it
            else
              ctx.fillRect(x + gap / 2, top + 1, Math.max(cellw - gap, 0.5), rh - 2)
          }
        }
        canvas.dataset.cut = cut
        // the time axis: a label every `step` cells, step chosen so that no two labels touch
        ctx.fillStyle = '#5f6368'; ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'top'
        let widest = 0
        for (const [, label] of model.ticks) widest = Math.max(widest, ctx.measureText(label).width)
        const steps = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 192, 384, 768]
        const step = steps.find((s) => s * cellw >= widest + 10) || n
        const drawn = []
        for (const [c, label] of model.ticks) {
          if (c % step) continue
          const w = ctx.measureText(label).width
          const x = Math.min(Math.max(left + (c + 0.5) * cellw - w / 2, left), width - w - 2)
          if (drawn.length && x < drawn[drawn.length - 1][1] + 6) continue
          ctx.fillText(label, x, TOP + rows * pitch + 5)
          drawn.push([Math.round(x), Math.round(x + w)])
        }
        canvas.dataset.ticks = JSON.stringify(drawn)
        if (model.marked >= 0 && model.marked < n) {
          ctx.strokeStyle = '#1a73e8'; ctx.lineWidth = 3
          ctx.strokeRect(left + model.marked * cellw, TOP, cellw, rows * pitch)
        }
      }

      function at(event) {
        const box = canvas.getBoundingClientRect()
        const x = event.clientX - box.left, y = event.clientY - box.top
        const cell = Math.floor((x - geo.left) / geo.cellw), row = Math.floor((y - TOP) / geo.pitch)
        if (cell < 0 || cell >= model.n_cells || row < 0 || row >= model.labels.length) return null
        return {row, cell, x, y}
      }
      canvas.addEventListener('click', (event) => {
        const hit = at(event)
        if (hit) model.send_msg({row: hit.row, cell: hit.cell})
      })
      canvas.addEventListener('mousemove', (event) => {
        const hit = at(event)
        if (!hit) { tip.style.display = 'none'; return }
        const index = model.text_of[hit.row * model.n_cells + hit.cell]
        const text = index >= 0 ? model.texts[index] : 'no row'
        tip.textContent = model.labels[hit.row].trim() + '\\n' + model.when[hit.cell] + '\\n' + text
        tip.style.left = Math.min(hit.x + 14, canvas.clientWidth - 200) + 'px'
        tip.style.top = (hit.y + 14) + 'px'
        tip.style.display = 'block'
      })
      canvas.addEventListener('mouseleave', () => { tip.style.display = 'none' })
      for (const name of ['codes', 'labels', 'kinds', 'ticks', 'colors', 'marked', 'n_cells'])
        model.on(name, draw)
      new ResizeObserver(() => draw()).observe(wrap)
      el.appendChild(wrap)
      draw()
    }
    """

    def __init__(self, on_click=None, **params):
        super().__init__(**params)
        self._on_click = on_click

    def _handle_msg(self, msg) -> None:
        """A click in the browser: the strip's row and the cell (tests call this as a click would)."""
        if self._on_click is not None and "row" in msg and "cell" in msg:
            self._on_click(int(msg["row"]), int(msg["cell"]))
