// jsdom has no DragEvent; @lumino/dragdrop subclasses it when imported (JupyterLab's own
// test setup polyfills it the same way).
if (typeof (globalThis as { DragEvent?: unknown }).DragEvent === 'undefined') {
  (globalThis as { DragEvent?: unknown }).DragEvent = class DragEvent extends (
    MouseEvent
  ) {};
}
