/**
 * rai_nb in JupyterLab: commands in the palette and the "Responsible AI" menu (the menu and the
 * output context menu are declared in schema/commands.json). The report renderer itself is the
 * MIME extension in ./mime.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  showErrorMessage
} from '@jupyterlab/apputils';
import { ICodeCellModel } from '@jupyterlab/cells';
import { PathExt } from '@jupyterlab/coreutils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';

import {
  auditCell,
  NamespaceSummary,
  readSummary,
  SUMMARY_EXPRESSION
} from './auditcell';
import { findModelCard, reportMarkdown } from './markdown';
import { renderedReports } from './report';
import { tutorialNotebook } from './templates';
import { Report, REPORT_MIME, reportProblem } from './types';

export { renderReport } from './report';

export const CommandIDs = {
  insertAudit: 'rai-nb:insert-audit',
  exportModelCard: 'rai-nb:export-model-card',
  openTutorial: 'rai-nb:open-tutorial'
};

const CATEGORY = 'Responsible AI';

/** `stem.ext`, or `stem-1.ext`, `stem-2.ext`… in `directory`: the first name not taken. */
async function freePath(
  app: JupyterFrontEnd,
  directory: string,
  stem: string,
  ext: string
): Promise<string> {
  for (let i = 0; ; i++) {
    const path = PathExt.join(
      directory,
      `${stem}${i === 0 ? '' : `-${i}`}${ext}`
    );
    try {
      await app.serviceManager.contents.get(path, { content: false });
    } catch {
      return path;
    }
  }
}

/** The newest report among the active cell's outputs. */
function activeCellReport(tracker: INotebookTracker): Report | null {
  const model = tracker.activeCell?.model;
  if (!model || model.type !== 'code') {
    return null;
  }
  const outputs = (model as ICodeCellModel).outputs;
  for (let i = outputs.length - 1; i >= 0; i--) {
    const data = outputs.get(i).data[REPORT_MIME];
    if (reportProblem(data) === null) {
      return data as unknown as Report;
    }
  }
  return null;
}

/** The report of the right-clicked output, else of the active cell's output. */
function selectedReport(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  fromContextMenu: boolean
): Report | null {
  if (fromContextMenu) {
    const node = app.contextMenuHitTest(node => renderedReports.has(node));
    if (node) {
      return renderedReports.get(node) ?? null;
    }
  }
  return activeCellReport(tracker);
}

/** How long "Insert %audit Cell" waits for the kernel's names (it may be busy). */
const SUMMARY_TIMEOUT_MS = 3000;

/** The kernel's DataFrames and models, or why they could not be read. */
async function kernelSummary(
  panel: NotebookPanel
): Promise<{ summary: NamespaceSummary } | { reason: string }> {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    return { reason: 'no kernel is running' };
  }
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: { rai_nb: SUMMARY_EXPRESSION }
  });
  const reply = await Promise.race([
    future.done,
    new Promise<null>(resolve =>
      setTimeout(() => resolve(null), SUMMARY_TIMEOUT_MS)
    )
  ]);
  if (reply === null) {
    return { reason: 'the kernel is busy' };
  }
  const content = reply.content as { user_expressions?: { rai_nb?: unknown } };
  return readSummary(content.user_expressions?.rai_nb);
}

function notebookDirectory(tracker: INotebookTracker): string {
  const path = tracker.currentWidget?.context.path;
  return path ? PathExt.dirname(path) : '';
}

function addCommands(app: JupyterFrontEnd, tracker: INotebookTracker): void {
  const hasNotebook = (): boolean => tracker.currentWidget !== null;

  app.commands.addCommand(CommandIDs.insertAudit, {
    label: 'Insert %audit Cell',
    caption:
      "Insert an %audit cell below the active cell, filled in with the notebook's own " +
      'DataFrame, model and columns',
    isEnabled: hasNotebook,
    execute: async () => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const found = await kernelSummary(panel);
      const source =
        'summary' in found
          ? auditCell(found.summary)
          : auditCell(null, found.reason);
      NotebookActions.insertBelow(panel.content);
      NotebookActions.changeCellType(panel.content, 'code');
      panel.content.activeCell?.model.sharedModel.setSource(source);
    }
  });

  app.commands.addCommand(CommandIDs.exportModelCard, {
    label: 'Export Model Card as Markdown',
    caption:
      'Save the model card of the selected %audit or %%modelcard output as a markdown file',
    isEnabled: hasNotebook,
    execute: async args => {
      const report = selectedReport(
        app,
        tracker,
        args.fromContextMenu === true
      );
      const card = report ? findModelCard(report) : null;
      if (!card) {
        await showErrorMessage(
          'No model card selected',
          'Select a cell whose output is an %audit or %%modelcard report, then export again.'
        );
        return undefined;
      }
      const path = await freePath(
        app,
        notebookDirectory(tracker),
        'MODEL_CARD',
        '.md'
      );
      await app.serviceManager.contents.save(path, {
        type: 'file',
        format: 'text',
        content: reportMarkdown(card)
      });
      await app.commands.execute('docmanager:open', { path });
      return path;
    }
  });

  app.commands.addCommand(CommandIDs.openTutorial, {
    label: 'Open rai_nb Tutorial',
    caption:
      'Create and open a notebook that audits a model on the bundled COMPAS data',
    execute: async () => {
      const path = await freePath(
        app,
        notebookDirectory(tracker),
        'rai_nb_tutorial',
        '.ipynb'
      );
      await app.serviceManager.contents.save(path, {
        type: 'notebook',
        format: 'json',
        content: tutorialNotebook()
      });
      await app.commands.execute('docmanager:open', { path });
      Notification.success(`Wrote the rai_nb tutorial to ${path}`, {
        autoClose: 10000
      });
      return path;
    }
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'rai-nb-jupyterlab:commands',
  description: 'rai_nb commands: %audit template, model card export, tutorial.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null
  ) => {
    addCommands(app, tracker);
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: CATEGORY });
    }
  }
};

export default plugin;
