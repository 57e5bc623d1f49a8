/**
 * Which view an output with a widget view and a report shows: the live panel, drawn by the
 * output area's own widget-view renderer, or the saved report. The output area, its widget
 * renderer and the kernel session are stand-ins with the members JupyterLab's have.
 */
import * as fs from 'fs';
import * as path from 'path';

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';

import { RANK, rendererFactory } from '../src/mime';
import {
  findHost,
  ReportRenderer,
  WIDGET_GRACE_MS,
  PANEL_MIME,
  panelModel,
  WIDGET_MIME,
  wantsWidget
} from '../src/renderer';
import { Report, REPORT_MIME } from '../src/types';

const report = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'audit.json'), 'utf-8')
) as Report;

/** What the stand-in widget renderer does with a model id. */
type Outcome = 'live' | 'missing' | 'pending';

/** Like jupyterlab-manager's WidgetRenderer: adds the view's node, or writes an error. */
class FakeWidgetRenderer extends Panel implements IRenderMime.IRenderer {
  constructor(private readonly outcome: Outcome) {
    super();
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.rendered.push(model);
    this.node.textContent = 'Loading widget...';
    if (this.outcome === 'pending') {
      return new Promise<void>(() => undefined); // no widget manager: never settles
    }
    if (this.outcome === 'missing') {
      this.node.textContent = 'Error displaying widget: model not found';
      return Promise.resolve();
    }
    this.showView();
    return Promise.resolve();
  }

  /** The view turns up (as after the widget manager restored its models). */
  showView(): void {
    this.node.textContent = '';
    const view = new Widget();
    view.addClass('widget-tab');
    this.addWidget(view);
  }

  readonly rendered: IRenderMime.IMimeModel[] = [];
}

/** An output area: its `rendermime` hands out widget renderers with one outcome. */
class FakeOutputArea extends Panel {
  constructor(public outcome: Outcome) {
    super();
    this.rendermime = {
      getFactory: (mimeType: string) =>
        mimeType === WIDGET_MIME ? this.widgetFactory : undefined,
      createRenderer: (mimeType: string) => {
        const renderer = new FakeWidgetRenderer(this.outcome);
        this.created.push(renderer);
        return renderer;
      }
    };
  }

  widgetFactory: IRenderMime.IRendererFactory | undefined = {
    safe: false,
    mimeTypes: [WIDGET_MIME],
    createRenderer: () => new FakeWidgetRenderer(this.outcome)
  };
  readonly rendermime: {
    getFactory(mimeType: string): IRenderMime.IRendererFactory | undefined;
    createRenderer(mimeType: string): IRenderMime.IRenderer;
  };
  readonly created: FakeWidgetRenderer[] = [];
}

/** The part of a Lumino signal the renderer uses. */
class FakeSignal<T> {
  connect(slot: (sender: unknown, args: T) => void, thisArg: unknown): void {
    this.slots.push([slot, thisArg]);
  }

  disconnect(slot: (sender: unknown, args: T) => void, thisArg: unknown): void {
    this.slots = this.slots.filter(([s, t]) => s !== slot || t !== thisArg);
  }

  emit(args: T): void {
    for (const [slot, thisArg] of this.slots) {
      slot.call(thisArg, this, args);
    }
  }

  slots: [(sender: unknown, args: T) => void, unknown][] = [];
}

/** A notebook panel's kernel session. */
class FakeSession {
  constructor(ready: boolean, hasKernel = true) {
    this.isReady = ready;
    this.session = hasKernel ? { kernel: { id: 'k1' } } : null;
    this.ready = new Promise<void>(resolve => {
      this.resolveReady = () => {
        this.isReady = true;
        resolve();
      };
    });
    if (ready) {
      this.resolveReady();
    }
  }

  isReady: boolean;
  session: { kernel: { id: string } } | null;
  readonly ready: Promise<void>;
  resolveReady: () => void = () => undefined;
  readonly statusChanged = new FakeSignal<string>();
  readonly kernelChanged = new FakeSignal<unknown>();
}

class FakeNotebookPanel extends Panel {
  constructor(readonly sessionContext: FakeSession | null) {
    super();
  }
}

function bundle(trusted: boolean, modelId = 'abc'): IRenderMime.IMimeModel {
  return {
    trusted,
    data: {
      [PANEL_MIME]: { version_major: 2, version_minor: 0, model_id: modelId },
      [REPORT_MIME]: report as never,
      'text/html': '<p>static</p>'
    },
    metadata: {},
    setData: () => undefined
  };
}

interface Output {
  renderer: ReportRenderer;
  area: FakeOutputArea;
  notebook: FakeNotebookPanel;
}

/** Render `model` the way an output area does: render first, then attach. */
async function output(
  model: IRenderMime.IMimeModel,
  outcome: Outcome,
  session: FakeSession | null = new FakeSession(true)
): Promise<Output> {
  const notebook = new FakeNotebookPanel(session);
  const area = new FakeOutputArea(outcome);
  notebook.addWidget(area);
  Widget.attach(notebook, document.body);
  const renderer = rendererFactory.createRenderer({
    mimeType: REPORT_MIME
  } as never) as ReportRenderer;
  await renderer.renderModel(model);
  area.addWidget(renderer);
  await settle();
  return { renderer, area, notebook };
}

/** Let promise callbacks and DOM mutation records run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

function visible(node: Element | null): boolean {
  for (let n = node; n !== null; n = n.parentElement) {
    if (n.classList.contains('lm-mod-hidden')) {
      return false;
    }
  }
  return node !== null;
}

function reportNode(renderer: ReportRenderer): Element | null {
  return renderer.node.querySelector('.rai-nb-report');
}

function panelNode(renderer: ReportRenderer): Element | null {
  return renderer.node.querySelector('.widget-tab');
}

afterEach(() => {
  jest.useRealTimers();
  document.body.replaceChildren();
});

describe('registration', () => {
  it('outranks the widget view (-10), so trusted outputs come here', () => {
    expect(RANK).toBeLessThan(-10);
    expect(rendererFactory.safe).toBe(true);
  });

  it('asks for the widget only for a trusted bundle with a model id', () => {
    expect(wantsWidget(bundle(true))).toBe(true);
    expect(wantsWidget(bundle(false))).toBe(false);
    expect(wantsWidget(bundle(true, ''))).toBe(false);
    const plain = bundle(true);
    delete (plain.data as { [key: string]: unknown })[PANEL_MIME];
    expect(wantsWidget(plain)).toBe(false);
  });

  it('hands the widget renderer the panel view under the standard type, apart from the bundle', () => {
    const model = bundle(true);
    const view = panelModel(model);
    expect(Object.keys(view.data)).toEqual([WIDGET_MIME]);
    expect(view.data[WIDGET_MIME]).toBe(model.data[PANEL_MIME]);
    view.setData({ data: { [WIDGET_MIME]: { model_id: '' } } });
    expect(model.data[PANEL_MIME]).toEqual({
      version_major: 2,
      version_minor: 0,
      model_id: 'abc'
    });
    expect(WIDGET_MIME in model.data).toBe(false);
  });

  it('finds the rendermime of the nearest output area', () => {
    const area = new FakeOutputArea('live');
    const item = new Panel();
    const leaf = new Widget();
    area.addWidget(item);
    item.addWidget(leaf);
    expect(findHost(leaf)).toBe(area.rendermime);
    expect(findHost(new Widget())).toBeNull();
  });
});

describe('live kernel', () => {
  it('shows the panel and only the panel', async () => {
    const { renderer, area } = await output(bundle(true), 'live');
    expect(renderer.shown).toBe('widget');
    expect(renderer.node.dataset.raiNbShows).toBe('widget');
    expect(visible(panelNode(renderer))).toBe(true);
    expect(reportNode(renderer)).toBeNull(); // never built, so never duplicated
    expect(area.created).toHaveLength(1);
    expect(area.created[0].rendered[0].data[WIDGET_MIME]).toEqual({
      version_major: 2,
      version_minor: 0,
      model_id: 'abc'
    });
  });

  it('shows the report once the kernel restarts, dies or changes', async () => {
    for (const event of ['restarting', 'autorestarting', 'dead', 'kernel']) {
      const session = new FakeSession(true);
      const { renderer } = await output(bundle(true), 'live', session);
      expect(renderer.shown).toBe('widget');
      session.statusChanged.emit('busy');
      expect(renderer.shown).toBe('widget');
      if (event === 'kernel') {
        session.kernelChanged.emit({ name: 'kernel' });
      } else {
        session.statusChanged.emit(event);
      }
      expect([event, renderer.shown]).toEqual([event, 'report']);
      expect(visible(reportNode(renderer))).toBe(true);
      expect(visible(panelNode(renderer))).toBe(false);
      expect(
        reportNode(renderer)?.querySelector('.rai-nb-title')?.textContent
      ).toBe(report.title);
    }
  });

  it('shows the report when the widget is closed', async () => {
    const { renderer, area } = await output(bundle(true), 'live');
    expect(renderer.shown).toBe('widget');
    area.created[0].widgets[0].dispose(); // `panel.close()` in the kernel
    await settle();
    expect(renderer.shown).toBe('report');
    expect(visible(reportNode(renderer))).toBe(true);
  });

  it('stops listening to the session when disposed', async () => {
    const session = new FakeSession(true);
    const { renderer } = await output(bundle(true), 'live', session);
    expect(session.statusChanged.slots).toHaveLength(1);
    renderer.dispose();
    expect(session.statusChanged.slots).toHaveLength(0);
    expect(session.kernelChanged.slots).toHaveLength(0);
    expect(() => session.statusChanged.emit('restarting')).not.toThrow();
    expect(renderer.node.querySelector('.rai-nb-report')).toBeNull();
  });
});

describe('no live widget', () => {
  it('untrusted: the report, and no widget renderer at all', async () => {
    const { renderer, area } = await output(bundle(false), 'live');
    expect(renderer.shown).toBe('report');
    expect(area.created).toHaveLength(0);
    expect(visible(reportNode(renderer))).toBe(true);
  });

  it('model missing (kernel restarted earlier): the report, error text hidden', async () => {
    const { renderer, area } = await output(bundle(true), 'missing');
    expect(area.created).toHaveLength(1);
    expect(renderer.shown).toBe('report');
    expect(visible(reportNode(renderer))).toBe(true);
    expect(visible(area.created[0].node)).toBe(false);
    expect(renderer.node.textContent).toContain('model not found'); // hidden, though
  });

  it('reopened with no kernel: the report, no widget renderer', async () => {
    const { renderer, area } = await output(
      bundle(true),
      'live',
      new FakeSession(true, false)
    );
    expect(renderer.shown).toBe('report');
    expect(area.created).toHaveLength(0);
  });

  it('no widget manager in the page: the report', async () => {
    const notebook = new FakeNotebookPanel(new FakeSession(true));
    const area = new FakeOutputArea('live');
    area.widgetFactory = undefined;
    notebook.addWidget(area);
    Widget.attach(notebook, document.body);
    const renderer = new ReportRenderer(REPORT_MIME);
    await renderer.renderModel(bundle(true));
    area.addWidget(renderer);
    expect(renderer.shown).toBe('report');
    expect(area.created).toHaveLength(0);
  });

  it('outside an output area: the report', async () => {
    const renderer = new ReportRenderer(REPORT_MIME);
    await renderer.renderModel(bundle(true));
    Widget.attach(renderer, document.body);
    expect(renderer.shown).toBe('report');
    expect(reportNode(renderer)?.querySelector('.rai-nb-title')).not.toBeNull();
  });
});

describe('waiting for the widget', () => {
  it('shows loading, then the report after the grace period, then a late panel', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const { renderer, area } = await output(bundle(true), 'pending');
    expect(renderer.shown).toBe('loading');
    expect(reportNode(renderer)).toBeNull();
    jest.advanceTimersByTime(WIDGET_GRACE_MS - 1);
    expect(renderer.shown).toBe('loading');
    jest.advanceTimersByTime(1);
    expect(renderer.shown).toBe('report');
    area.created[0].showView();
    await settle();
    expect(renderer.shown).toBe('widget');
    expect(visible(reportNode(renderer))).toBe(false);
    expect(visible(panelNode(renderer))).toBe(true);
  });

  it('page reloaded with the kernel running: report, then the panel once restored', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const session = new FakeSession(false);
    const { renderer, area } = await output(bundle(true), 'pending', session);
    expect(renderer.shown).toBe('report');
    expect(area.created).toHaveLength(0); // not before the session is ready
    area.outcome = 'live'; // jupyterlab-manager has bound its renderer to the kernel
    session.resolveReady();
    await settle();
    jest.advanceTimersByTime(0);
    await settle();
    expect(area.created).toHaveLength(1);
    expect(renderer.shown).toBe('widget');
    expect(visible(reportNode(renderer))).toBe(false);
  });

  it('a new model drops the old attempt', async () => {
    const { renderer, area } = await output(bundle(true), 'live');
    const first = area.created[0];
    await renderer.renderModel(bundle(false));
    expect(first.isDisposed).toBe(true);
    expect(renderer.shown).toBe('report');
    expect(area.created).toHaveLength(1);
  });
});
