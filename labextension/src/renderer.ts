/**
 * The renderer of an output that carries a rai_nb report: the live ipywidgets panel while the
 * kernel that made it is running, the saved report otherwise.
 *
 * `rai_nb.ui.show` (and `%audit`) put the widget view, `text/html` and the report JSON in one
 * mime bundle. The widget view travels under rai_nb's own type (`PANEL_MIME`): under the
 * standard one, nbconvert (with saved widget state), VS Code and JupyterLab itself would prefer
 * it even when its model is gone (kernel restarted, notebook reopened) and show "Error
 * displaying widget: model not found", nothing, or a widget instead of the static report. This
 * renderer takes the bundle and asks the output area's own widget-view renderer (the one
 * @jupyter-widgets/jupyterlab-manager installs) to draw the panel; whenever that renderer has
 * no view to show, the report is shown. Exactly one of the two is visible at a time.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';

import { renderReport } from './report';

/** The ipywidgets view of a widget model. */
export const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';

/** Where a rai_nb bundle carries its panel's widget view (`rai_nb.ui.PANEL_MIME`). */
export const PANEL_MIME = 'application/vnd.rai-nb.widget-view+json';

/**
 * How long the widget renderer may take to draw a live panel before the report is shown
 * instead (it keeps trying; a panel that turns up later replaces the report). Longer than the
 * two seconds jupyterlab-manager waits for a missing model before it gives up.
 */
export const WIDGET_GRACE_MS = 3000;

/** Kernel states after which the widgets of the old kernel are dead. */
const DEAD_STATES = new Set(['restarting', 'autorestarting', 'dead']);

/** What is visible: the widget renderer (loading or showing a panel) or the report. */
export type Shown = 'none' | 'loading' | 'widget' | 'report';

/** The mime renderers around an output (JupyterLab's `OutputArea.rendermime`). */
export interface IRendererHost {
  getFactory(mimeType: string): IRenderMime.IRendererFactory | undefined;
  createRenderer(mimeType: string): IRenderMime.IRenderer;
}

function hasFunctions(value: unknown, names: string[]): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const record = value as { [name: string]: unknown };
  return names.every(name => typeof record[name] === 'function');
}

/** The nearest ancestor's `rendermime` (an output area's), or `null`. */
export function findHost(widget: Widget): IRendererHost | null {
  for (let node = widget.parent; node !== null; node = node.parent) {
    const rendermime = (node as { rendermime?: unknown }).rendermime;
    if (hasFunctions(rendermime, ['getFactory', 'createRenderer'])) {
      return rendermime as IRendererHost;
    }
  }
  return null;
}

/** The nearest ancestor's `sessionContext` (a notebook or console panel's), or `null`. */
export function findSession(widget: Widget): ISessionContext | null {
  for (let node = widget.parent; node !== null; node = node.parent) {
    const session = (node as { sessionContext?: unknown }).sessionContext;
    if (
      typeof session === 'object' &&
      session !== null &&
      'ready' in session &&
      'statusChanged' in session &&
      'kernelChanged' in session
    ) {
      return session as ISessionContext;
    }
  }
  return null;
}

/** Whether `model` asks for a widget view: trusted, with a non-empty model id. */
export function wantsWidget(model: IRenderMime.IMimeModel): boolean {
  const view = model.data[PANEL_MIME] as { model_id?: unknown } | undefined;
  return (
    model.trusted &&
    typeof view === 'object' &&
    view !== null &&
    typeof view.model_id === 'string' &&
    view.model_id !== ''
  );
}

/**
 * The bundle's panel view as the widget renderer reads it. Its `setData` is a no-op: the widget
 * renderer blanks the model id of a view it closes, which here must not reach the saved output
 * (the report shows anyway once no view is drawn).
 */
export function panelModel(
  model: IRenderMime.IMimeModel
): IRenderMime.IMimeModel {
  return {
    trusted: model.trusted,
    data: { [WIDGET_MIME]: model.data[PANEL_MIME] },
    metadata: {},
    setData: () => undefined
  };
}

/**
 * Renders a report bundle: the live widget panel (drawn by the host's widget-view renderer, a
 * child of this one) while it has a view and its kernel has not restarted, else the report.
 */
export class ReportRenderer extends Panel implements IRenderMime.IRenderer {
  constructor(private readonly mimeType: string) {
    super();
    this.addClass('rai-nb-RenderedReport');
  }

  /** What the output shows now (also in the `data-rai-nb-shows` attribute). */
  get shown(): Shown {
    return this._shown;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._generation++;
    this._model = model;
    this._dead = false;
    this._waiting = false;
    this._dropView();
    this._report?.dispose();
    this._report = null;
    if (!wantsWidget(model)) {
      this._show('report');
    } else if (this.isAttached) {
      this._connect();
    } else {
      this._waiting = true; // the output area attaches the renderer after this call
    }
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._generation++;
    this._dropView();
    this._listenTo(null);
    super.dispose();
  }

  protected onAfterAttach(msg: unknown): void {
    if (this._waiting) {
      this._waiting = false;
      this._connect();
    }
  }

  /** Find the widget renderer and the kernel session around this output, then try the panel. */
  private _connect(): void {
    const host = findHost(this);
    const session = findSession(this);
    if (host === null || host.getFactory(WIDGET_MIME) === undefined) {
      this._show('report');
      return;
    }
    this._listenTo(session);
    if (session === null) {
      this._attempt(host);
    } else if (!session.isReady) {
      // A notebook opening (or the page reloading): jupyterlab-manager binds its widget
      // renderer to the kernel right after the session is ready; try once it has.
      this._show('report');
      const generation = this._generation;
      void session.ready.then(() =>
        setTimeout(() => {
          if (generation === this._generation && !this.isDisposed) {
            this._attempt(host);
          }
        }, 0)
      );
    } else if (!session.session?.kernel) {
      this._show('report'); // no kernel, so no widget models
    } else {
      this._attempt(host);
    }
  }

  /** Render the widget view with the host's widget renderer. */
  private _attempt(host: IRendererHost): void {
    const model = this._model;
    if (
      model === null ||
      this._dead ||
      host.getFactory(WIDGET_MIME) === undefined
    ) {
      this._show('report');
      return;
    }
    const view = host.createRenderer(WIDGET_MIME);
    this._view = view;
    this._settled = false;
    this.addWidget(view);
    // The widget renderer adds the panel's node when the view exists and removes it when the
    // view goes (the widget closed): both show up as child-list changes of its node.
    this._observer = new MutationObserver(() => this._update());
    this._observer.observe(view.node, { childList: true });
    const generation = this._generation;
    const settle = (): void => {
      if (generation === this._generation && view === this._view) {
        this._settled = true;
        this._update();
      }
    };
    this._timer = setTimeout(settle, WIDGET_GRACE_MS);
    view.renderModel(panelModel(model)).then(settle, settle);
    this._update();
  }

  /** Show the panel if the widget renderer has one, else the report (or, briefly, loading). */
  private _update(): void {
    const view = this._view;
    if (this._dead || view === null || view.isDisposed) {
      this._show('report');
    } else if (view.node.firstElementChild !== null) {
      this._show('widget');
    } else if (!this._settled && this._shown !== 'report') {
      this._show('loading');
    } else {
      this._show('report');
    }
  }

  private _show(shown: Shown): void {
    if (shown === 'report' && this._report === null && this._model !== null) {
      const report = new Widget();
      report.addClass('rai-nb-ReportView');
      report.node.appendChild(renderReport(this._model.data[this.mimeType]));
      this._report = report;
      this.insertWidget(0, report);
    }
    this._report?.setHidden(shown !== 'report');
    this._view?.setHidden(shown !== 'loading' && shown !== 'widget');
    this._shown = shown;
    this.node.dataset.raiNbShows = shown;
  }

  /** Follow the kernel: a restart, a change or a shutdown leaves the panel dead. */
  private _listenTo(session: ISessionContext | null): void {
    if (this._session !== null) {
      this._session.statusChanged.disconnect(this._onStatus, this);
      this._session.kernelChanged.disconnect(this._onKernelChanged, this);
    }
    this._session = session;
    if (session !== null) {
      session.statusChanged.connect(this._onStatus, this);
      session.kernelChanged.connect(this._onKernelChanged, this);
    }
  }

  private _onStatus(sender: ISessionContext, status: string): void {
    if (DEAD_STATES.has(status)) {
      this._kernelGone();
    }
  }

  private _onKernelChanged(): void {
    this._kernelGone();
  }

  private _kernelGone(): void {
    if (this._view === null) {
      return; // no panel tried yet (the session is still starting)
    }
    // The old view stays (hidden) until the output goes: disposing it would make
    // jupyterlab-manager blank the model id in the saved output.
    this._dead = true;
    this._stopWatching();
    this._update();
  }

  private _stopWatching(): void {
    this._observer?.disconnect();
    this._observer = null;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _dropView(): void {
    this._stopWatching();
    this._view?.dispose();
    this._view = null;
  }

  private _model: IRenderMime.IMimeModel | null = null;
  private _report: Widget | null = null;
  private _view: IRenderMime.IRenderer | null = null;
  private _session: ISessionContext | null = null;
  private _observer: MutationObserver | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _generation = 0;
  private _waiting = false;
  private _settled = false;
  private _dead = false;
  private _shown: Shown = 'none';
}
