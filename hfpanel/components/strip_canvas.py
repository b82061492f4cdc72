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


class StripCanvas(JSComponent):
    """The strips as a canvas: ``codes`` is row-major, ``len(labels) * n_cells`` characters."""

    codes = param.String(default="")
    n_cells = param.Integer(default=0)
    labels = param.List(default=[], doc="One label per strip (categories in capitals).")
    kinds = param.List(default=[], doc="'category' or 'module' per strip (categories are drawn bold).")
    ticks = param.List(default=[], doc="[cell, label] pairs for the time axis.")
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
      const TOP = 4, AXIS = 22
      let geo = {left: 0, cellw: 1}

      function draw() {
        const rows = model.labels.length, n = model.n_cells, rh = model.row_px
        const width = Math.max(200, wrap.clientWidth || el.clientWidth || 800)
        const height = TOP + rows * rh + AXIS
        const ratio = window.devicePixelRatio || 1
        canvas.width = width * ratio; canvas.height = height * ratio
        canvas.style.width = width + 'px'; canvas.style.height = height + 'px'
        const ctx = canvas.getContext('2d')
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
        ctx.clearRect(0, 0, width, height)
        ctx.font = '12px system-ui, sans-serif'
        let labelw = 0
        for (const label of model.labels) labelw = Math.max(labelw, ctx.measureText(label).width)
        const left = Math.min(Math.ceil(labelw) + 12, Math.floor(width * 0.4))
        const cellw = n ? (width - left - 4) / n : 1
        geo = {left, cellw}
        canvas.dataset.left = left; canvas.dataset.top = TOP
        canvas.dataset.cellw = cellw; canvas.dataset.rowh = rh
        canvas.dataset.rows = rows; canvas.dataset.cells = n
        ctx.textBaseline = 'middle'
        for (let r = 0; r < rows; r++) {
          const y = TOP + r * rh
          ctx.fillStyle = '#202124'
          ctx.font = (model.kinds[r] === 'category' ? 'bold ' : '') + '12px system-ui, sans-serif'
          ctx.save(); ctx.beginPath(); ctx.rect(0, y, left - 6, rh); ctx.clip()
          ctx.fillText(model.labels[r], 2, y + rh / 2); ctx.restore()
          for (let c = 0; c < n; c++) {
            ctx.fillStyle = model.colors[model.codes[r * n + c]] || '#f1f3f4'
            ctx.fillRect(left + c * cellw + 0.5, y + 1, Math.max(cellw - 1, 0.5), rh - 2)
          }
        }
        ctx.fillStyle = '#5f6368'; ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'top'
        for (const [c, label] of model.ticks) {
          const x = left + (c + 0.5) * cellw
          ctx.fillText(label, Math.min(Math.max(x - ctx.measureText(label).width / 2, left), width - 40),
                       TOP + rows * rh + 5)
        }
        if (model.marked >= 0 && model.marked < n) {
          ctx.strokeStyle = '#1a73e8'; ctx.lineWidth = 3
          ctx.strokeRect(left + model.marked * cellw, TOP, cellw, rows * rh)
        }
      }

      function at(event) {
        const box = canvas.getBoundingClientRect()
        const x = event.clientX - box.left, y = event.clientY - box.top
        const cell = Math.floor((x - geo.left) / geo.cellw), row = Math.floor((y - TOP) / model.row_px)
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
