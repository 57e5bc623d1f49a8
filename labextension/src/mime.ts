/**
 * The MIME renderer for `application/vnd.rai-nb.report+json`: draws a saved rai_nb report with
 * no kernel. It is `safe` (text only, no scripts), so it also renders in untrusted notebooks,
 * ahead of the static `text/html` copy; a live ipywidgets view in the same output still wins.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { renderReport } from './report';
import { REPORT_MIME } from './types';

/** Rank among renderers: before text/html (50) and markdown (60), after widget views (-10). */
export const RANK = 0;

export class ReportRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly mimeType: string) {
    super();
    this.addClass('rai-nb-RenderedReport');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.replaceChildren(renderReport(model.data[this.mimeType]));
    return Promise.resolve();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [REPORT_MIME],
  createRenderer: options => new ReportRenderer(options.mimeType)
};

const extension: IRenderMime.IExtension = {
  id: 'rai-nb-jupyterlab:report',
  description: 'Renders rai_nb reports saved in notebooks.',
  rendererFactory,
  rank: RANK,
  dataType: 'json'
};

export default extension;
