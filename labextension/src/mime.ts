/**
 * The MIME renderer for `application/vnd.rai-nb.report+json`: draws a saved rai_nb report with
 * no kernel, and the live ipywidgets panel of the same output while its kernel runs (see
 * ./renderer). It is `safe` (text only, no scripts), so it also renders in untrusted notebooks,
 * ahead of the static `text/html` copy; there it never draws the widget.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { ReportRenderer } from './renderer';
import { REPORT_MIME } from './types';

export { ReportRenderer } from './renderer';

/**
 * Rank among renderers: before widget views (-10), text/html (50) and markdown (60), so a
 * trusted output with a widget view still comes here and the widget is shown only when live.
 */
export const RANK = -20;

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [REPORT_MIME],
  createRenderer: options => new ReportRenderer(options.mimeType)
};

const extension: IRenderMime.IExtension = {
  id: 'rai-nb-jupyterlab:report',
  description:
    'Renders rai_nb reports saved in notebooks, and their live widget panels.',
  rendererFactory,
  rank: RANK,
  dataType: 'json'
};

export default extension;
