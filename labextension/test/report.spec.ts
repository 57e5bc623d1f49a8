/**
 * The renderer against reports written by rai_nb itself (test/make_fixtures.py, COMPAS):
 * the page shows the JSON's numbers formatted as rai_nb formats them, and user text as text.
 */
import * as fs from 'fs';
import * as path from 'path';

import { cellNumber, formatCell, formatLabel } from '../src/format';
import { findModelCard, mdEscape, reportMarkdown } from '../src/markdown';
import { rendererFactory } from '../src/mime';
import {
  numericColumns,
  renderReport,
  renderedReports,
  ROWS_SHOWN
} from '../src/report';
import { tutorialNotebook } from '../src/templates';
import { Cell, Report, REPORT_MIME, ReportSection } from '../src/types';

function fixture<T = Report>(name: string): T {
  const file = path.join(__dirname, 'fixtures', `${name}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf-8')) as T;
}

function section(report: Report, title: string): ReportSection {
  const found = report.sections.find(s => s.title === title);
  if (!found) {
    throw new Error(`no section ${title}`);
  }
  return found;
}

function sectionNode(root: HTMLElement, title: string): HTMLElement {
  const heading = Array.from(
    root.querySelectorAll('.rai-nb-section-title')
  ).find(h => h.textContent === title);
  if (!heading) {
    throw new Error(`no rendered section ${title}`);
  }
  return heading.parentElement as HTMLElement;
}

function texts(nodes: NodeListOf<Element> | Element[]): string[] {
  return Array.from(nodes).map(n => n.textContent ?? '');
}

/** A cell's text without the interval printed beside its value. */
function cellText(cell: Element): string {
  return Array.from(cell.childNodes)
    .filter(child => !(child as Element).classList?.contains('rai-nb-interval'))
    .map(child => child.textContent)
    .join('');
}

function bodyRows(node: HTMLElement): string[][] {
  return Array.from(node.querySelectorAll('tbody tr')).map(tr =>
    Array.from(tr.querySelectorAll('th, td')).map(cellText)
  );
}

function expectedRow(row: { index: Cell[]; values: Cell[] }): string[] {
  return [...row.index.map(formatLabel), ...row.values.map(formatCell)];
}

describe('formatting', () => {
  it('prints every value as rai_nb.render.format_value does', () => {
    for (const [value, expected] of fixture<[Cell, string][]>('format_cases')) {
      expect([value, formatCell(value)]).toEqual([value, expected]);
    }
  });

  it('escapes markdown as rai_nb.render.md_escape does, in both modes', () => {
    for (const [text, line, lines] of fixture<string[][]>('escape_cases')) {
      expect([text, mdEscape(text), mdEscape(text, true)]).toEqual([
        text,
        line,
        lines
      ]);
    }
  });
});

describe('bias report', () => {
  const report = fixture('bias');
  const root = renderReport(report);
  const metrics = section(report, 'Metrics by group');
  const node = sectionNode(root, 'Metrics by group');

  it('shows the title, summary and every section', () => {
    expect(root.querySelector('.rai-nb-title')?.textContent).toBe(report.title);
    expect(texts(root.querySelectorAll('.rai-nb-section-title'))).toEqual(
      report.sections.map(s => s.title)
    );
    expect(texts(root.querySelectorAll('.rai-nb-chip-value'))).toEqual(
      Object.values(report.summary)
        .filter(v => ['number', 'string', 'boolean'].includes(typeof v))
        .map(v => formatCell(v as Cell))
    );
    expect(renderedReports.get(root)).toBe(report);
  });

  it('shows the table cells the JSON holds, formatted', () => {
    const table = metrics.table!;
    expect(texts(node.querySelectorAll('thead th'))).toEqual([
      ...table.index_names.map(n => (n === null ? '' : String(n))),
      ...table.columns.map(String)
    ]);
    expect(bodyRows(node)).toEqual(table.rows.map(expectedRow));
  });

  it('sorts by a clicked column, numerically, both ways', () => {
    const table = metrics.table!;
    const j = table.columns.indexOf('false_positive_rate');
    const header = node.querySelectorAll('thead th')[
      table.index_names.length + j
    ] as HTMLElement;
    const column = (): number[] =>
      bodyRows(node).map(row => Number(row[table.index_names.length + j]));
    header.click();
    expect(header.getAttribute('aria-sort')).toBe('ascending');
    const values = table.rows
      .map(r => r.values[j] as number)
      .sort((a, b) => a - b);
    expect(column()).toEqual(values.map(v => Number(formatCell(v))));
    header.click();
    expect(header.getAttribute('aria-sort')).toBe('descending');
    expect(column()).toEqual(
      [...values].reverse().map(v => Number(formatCell(v)))
    );
  });

  it('sorts by an index level as text', () => {
    const header = node.querySelectorAll('thead th')[0] as HTMLElement;
    header.click();
    const races = bodyRows(node).map(row => row[0]);
    expect(races).toEqual([...races].sort((a, b) => a.localeCompare(b)));
  });

  it('draws the bars with the values and labels of the JSON', () => {
    const bars = metrics.bars!;
    const chart = node.querySelector('svg.rai-nb-bars')!;
    expect(texts(chart.querySelectorAll('.rai-nb-bar-value'))).toEqual(
      bars.values.map(formatCell)
    );
    expect(texts(chart.querySelectorAll('.rai-nb-bar-label > title'))).toEqual(
      bars.labels
    );
    expect(chart.querySelectorAll('rect.rai-nb-bar')).toHaveLength(
      bars.values.length
    );
  });

  it('switches the chart to another metric of the table', () => {
    const table = metrics.table!;
    const select = node.querySelector(
      'select.rai-nb-metric'
    ) as HTMLSelectElement;
    expect(texts(select.querySelectorAll('option'))).toEqual(
      numericColumns(table).map(j => String(table.columns[j]))
    );
    expect(select.selectedOptions[0].textContent).toBe(
      String(metrics.bars!.label)
    );
    const j = table.columns.indexOf('accuracy');
    select.value = String(j);
    select.dispatchEvent(new Event('change'));
    const chart = node.querySelector('svg.rai-nb-bars')!;
    expect(chart.getAttribute('aria-label')).toBe('accuracy');
    const wanted = new Set(metrics.bars!.labels);
    const rows = table.rows.filter(r =>
      wanted.has(r.index.map(String).join(' \u00b7 '))
    );
    expect(rows).toHaveLength(metrics.bars!.labels.length);
    expect(texts(chart.querySelectorAll('.rai-nb-bar-value'))).toEqual(
      rows.map(r => formatCell(r.values[j]))
    );
  });

  it('emphasises the cells rai_nb marks, wherever sorting moves their rows', () => {
    const marks = metrics.marks!;
    const table = metrics.table!;
    expect(Object.keys(marks).length).toBeGreaterThan(0);
    const expected = Object.entries(marks)
      .flatMap(([column, rows]) =>
        rows.map(i => [
          formatLabel(table.rows[i].index[0]),
          formatLabel(table.rows[i].index[1]),
          column,
          formatCell(table.rows[i].values[table.columns.indexOf(column)])
        ])
      )
      .sort();
    const found = Array.from(node.querySelectorAll('td.rai-nb-mark')).map(
      td => {
        const tr = td.parentElement as HTMLTableRowElement;
        const j =
          Array.from(tr.children).indexOf(td) - table.index_names.length;
        return [
          tr.children[0].textContent,
          tr.children[1].textContent,
          String(table.columns[j]),
          cellText(td)
        ];
      }
    );
    expect(found.sort()).toEqual(expected);
  });

  it('prints each interval beside its estimate, as rai_nb does', () => {
    const { lower, upper } = metrics.bounds!;
    const fresh = sectionNode(renderReport(report), 'Metrics by group');
    const rows = Array.from(fresh.querySelectorAll('tbody tr'));
    const shown = rows.map(tr =>
      Array.from(
        tr.querySelectorAll('td'),
        td => td.querySelector('.rai-nb-interval')?.textContent ?? null
      )
    );
    const expected = metrics.table!.rows.map((_, i) =>
      lower[i].map((low, j) =>
        typeof low === 'number' && typeof upper[i][j] === 'number'
          ? ` [${low.toFixed(3)}, ${(upper[i][j] as number).toFixed(3)}]`
          : null
      )
    );
    expect(shown).toEqual(expected.slice(0, rows.length));
    expect(shown.flat().filter(Boolean).length).toBeGreaterThan(0);
    expect(report.sections.some(s => /bootstrap intervals/.test(s.title))).toBe(
      false
    );
  });

  it('keeps long tables short until asked', () => {
    const long: ReportSection = {
      title: 'Long',
      text: '',
      notes: {},
      table: {
        index_names: ['row'],
        columns: ['value'],
        rows: Array.from({ length: 45 }, (_, i) => ({
          index: [`r${i}`],
          values: [i]
        }))
      },
      bars: null
    };
    const box = renderReport({ ...report, sections: [long] });
    const more = box.querySelector('.rai-nb-more') as HTMLButtonElement;
    expect(box.querySelectorAll('tbody tr')).toHaveLength(ROWS_SHOWN);
    expect(more.textContent).toBe('Show all 45 rows');
    more.click();
    expect(bodyRows(box)).toEqual(long.table!.rows.map(expectedRow));
  });

  it('puts column definitions in tooltips and infinities as ∞', () => {
    const clarify = section(report, 'SageMaker Clarify metrics');
    const box = sectionNode(root, 'SageMaker Clarify metrics');
    const headers = Array.from(
      box.querySelectorAll('thead th')
    ) as HTMLElement[];
    const ci = headers.find(h => h.textContent === 'CI')!;
    expect(ci.title).toBe(clarify.notes.CI);
    const cells = clarify.table!.rows.flatMap(r => r.values);
    expect(cells.filter(v => v === 'inf' || v === '-inf').length).toBe(
      Array.from(box.querySelectorAll('td'), cellText).filter(t =>
        t.endsWith('\u221e')
      ).length
    );
  });
});

describe.each([
  ['multiclass', 'Metrics by class', 'accuracy'],
  ['regression', 'Fairness summary', 'mean_absolute_error']
])('%s bias report', (name, title, charted) => {
  const report = fixture(name);
  const root = renderReport(report);

  it('renders every section without an error', () => {
    expect(root.classList).not.toContain('rai-nb-error');
    expect(texts(root.querySelectorAll('.rai-nb-section-title'))).toEqual(
      report.sections.map(s => s.title)
    );
    expect(root.textContent).not.toContain('positive outcome');
  });

  it(`shows the ${title} table the JSON holds`, () => {
    const table = section(report, title).table!;
    expect(table.rows.length).toBeGreaterThan(0);
    expect(bodyRows(sectionNode(root, title))).toEqual(
      table.rows.map(expectedRow)
    );
  });

  it(`charts ${charted} by group`, () => {
    const bars = section(report, 'Metrics by group').bars!;
    expect(bars.label).toBe(charted);
    const chart = sectionNode(root, 'Metrics by group').querySelector(
      'svg.rai-nb-bars'
    )!;
    expect(texts(chart.querySelectorAll('.rai-nb-bar-value'))).toEqual(
      bars.values.map(formatCell)
    );
  });
});

it('shows one-vs-rest rates per group and class for a multiclass report', () => {
  const table = section(fixture('multiclass'), 'Metrics by class').table!;
  expect(table.index_names).toEqual(['site', 'class']);
  expect(table.columns).toEqual([
    'selection_rate',
    'true_positive_rate',
    'false_positive_rate',
    'precision'
  ]);
  expect(table.rows).toHaveLength(9);
});

it('shows the regression disparities of a regression report', () => {
  const table = section(fixture('regression'), 'Fairness summary').table!;
  const names = table.rows.map(r => r.index[0]);
  expect(names).toContain('mean_absolute_error_difference');
  expect(names).toContain('bounded_group_loss');
  expect(names).toContain('statistical_parity_wasserstein');
});

describe('other result types', () => {
  it('shows slices with their chart and significance', () => {
    const report = fixture('slices');
    const root = renderReport(report);
    const top = section(report, 'Top slices');
    expect(bodyRows(sectionNode(root, 'Top slices'))).toEqual(
      top.table!.rows.map(expectedRow)
    );
    expect(root.querySelectorAll('svg.rai-nb-bars rect')).toHaveLength(
      top.bars!.values.length
    );
  });

  it('gives data checks severity badges', () => {
    const report = fixture('validation');
    const root = renderReport(report);
    const checks = section(report, 'Checks').table!;
    const j = checks.columns.indexOf('severity');
    (
      sectionNode(root, 'Checks').querySelector('.rai-nb-more') as HTMLElement
    ).click();
    for (const severity of ['pass', 'warn', 'fail']) {
      const expected = checks.rows.filter(r => r.values[j] === severity).length;
      expect(
        sectionNode(root, 'Checks').querySelectorAll(
          `.rai-nb-badge-${severity}`
        )
      ).toHaveLength(expected);
    }
  });

  it('shows a model card with a download button', () => {
    const report = fixture('model_card');
    const root = renderReport(report);
    expect(root.querySelector('.rai-nb-download')?.textContent).toBe(
      'Download Markdown'
    );
    expect(texts(root.querySelectorAll('.rai-nb-text'))).toEqual(
      report.sections.filter(s => s.text).map(s => s.text)
    );
  });

  it('puts the parts of an audit in tabs, as the live panel does', () => {
    const report = fixture('audit');
    const root = renderReport(report);
    const tabs = Array.from(
      root.querySelectorAll('.rai-nb-tab')
    ) as HTMLElement[];
    const panels = Array.from(
      root.querySelectorAll('.rai-nb-tabpanel')
    ) as HTMLElement[];
    // rai_nb/ui/_audit.py: AuditPanel's titles, in the same order.
    expect(texts(tabs)).toEqual([
      'Overview',
      'Fairness',
      'Explanations',
      'Slices',
      'Data checks',
      'Model card'
    ]);
    expect(panels.map(p => p.hidden)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true
    ]);
    tabs[3].click();
    expect(panels.map(p => p.hidden)).toEqual([
      true,
      true,
      true,
      false,
      true,
      true
    ]);
    expect(tabs[3].getAttribute('aria-selected')).toBe('true');
    expect(panels[3].querySelector('.rai-nb-title')?.textContent).toBe(
      report.parts![2].title
    );
    expect(renderedReports.get(panels[5])?.kind).toBe('model_card');
    expect(texts(panels[0].querySelectorAll('.rai-nb-section-title'))).toEqual([
      'Overview'
    ]);
  });

  it('shows the Explanations tab of an audit: importance, beeswarm, groups', () => {
    const report = fixture('audit');
    const part = report.parts!.find(p => p.kind === 'explanation')!;
    const root = renderReport(report);
    const tab = Array.from(root.querySelectorAll('.rai-nb-tab')).find(
      t => t.textContent === 'Explanations'
    ) as HTMLElement;
    tab.click();
    const panel = root.querySelector('.rai-nb-tabpanel:not([hidden])')!;
    expect(panel.getAttribute('data-kind')).toBe('explanation');
    expect(texts(panel.querySelectorAll('.rai-nb-section-title'))).toEqual([
      'Global importance',
      'Beeswarm',
      'Attribution by group'
    ]);
    const groups = sectionNode(panel as HTMLElement, 'Attribution by group');
    expect(bodyRows(groups)).toEqual(
      section(part, 'Attribution by group').table!.rows.map(expectedRow)
    );
    expect(groups.querySelectorAll('td.rai-nb-mark').length).toBe(
      Object.values(section(part, 'Attribution by group').marks!).flat().length
    );
    const img = panel.querySelector('img.rai-nb-image') as HTMLImageElement;
    expect(img.getAttribute('src')).toBe(section(part, 'Beeswarm').image);
  });
});

describe('explanation report', () => {
  const report = fixture('explanation');
  const root = renderReport(report);

  it('shows global importance as a table and bars, and the beeswarm image', () => {
    expect(root.dataset.kind).toBe('explanation');
    expect(texts(root.querySelectorAll('.rai-nb-section-title'))).toEqual([
      'Global importance',
      'Beeswarm'
    ]);
    const importance = section(report, 'Global importance');
    const node = sectionNode(root, 'Global importance');
    expect(bodyRows(node)).toEqual(importance.table!.rows.map(expectedRow));
    expect(texts(node.querySelectorAll('.rai-nb-bar-value'))).toEqual(
      importance.bars!.values.map(formatCell)
    );
    const images = root.querySelectorAll('img');
    expect(images).toHaveLength(1);
    const src = images[0].getAttribute('src')!;
    expect(src).toBe(section(report, 'Beeswarm').image);
    expect(src.startsWith('data:image/png;base64,iVBORw0KGgo')).toBe(true);
    expect(images[0].getAttribute('alt')).toBe('Beeswarm');
  });

  it('refuses an image that is not a PNG data URI', () => {
    for (const src of [
      'https://example.com/x.png',
      'data:image/svg+xml;base64,PHN2Zz4=',
      'data:image/png;base64,iVBO"onerror="x',
      42
    ]) {
      const bad = fixture('explanation');
      (section(bad, 'Beeswarm') as { image: unknown }).image = src;
      const shown = renderReport(bad);
      expect(shown.classList.contains('rai-nb-error')).toBe(true);
      expect(shown.textContent).toContain('is not a PNG data URI');
      expect(shown.querySelectorAll('img')).toHaveLength(0);
    }
  });
});

describe('user text', () => {
  const report = fixture('hostile');
  const hostile = report.sections[0].table!.index_names[0] as string;

  it('is inserted as text, never parsed as HTML', () => {
    const root = renderReport(report);
    document.body.appendChild(root);
    expect(
      root.querySelectorAll('img, script, iframe, object, embed')
    ).toHaveLength(0);
    expect(root.querySelector('.rai-nb-title')?.textContent).toBe(report.title);
    expect(texts(root.querySelectorAll('thead th'))).toContain(hostile);
    expect(texts(root.querySelectorAll('tbody th'))).toContain(hostile);
    expect(
      (window as unknown as { __rai_nb_xss?: number }).__rai_nb_xss
    ).toBeUndefined();
    root.remove();
  });

  it('is escaped in exported markdown exactly as rai_nb escapes it', () => {
    for (const name of ['card_markdown', 'hostile_card_markdown']) {
      const { report: card, markdown } = fixture<{
        report: Report;
        markdown: string;
      }>(name);
      expect(reportMarkdown(card)).toBe(markdown);
    }
    const { markdown } = fixture<{ markdown: string }>('hostile_card_markdown');
    expect(markdown).not.toContain('<img');
  });
});

describe('robustness', () => {
  it.each([
    [null, 'not a rai_nb report'],
    [
      { rai_nb_report: 99, title: 't', sections: [] },
      'newer than this extension'
    ],
    [{ rai_nb_report: 1, title: 't' }, 'no title or sections'],
    [
      {
        rai_nb_report: 1,
        title: 't',
        sections: [{ title: 's', table: { rows: 3 } }]
      },
      'malformed'
    ]
  ])('explains why %j cannot be shown', (value, message) => {
    const root = renderReport(value);
    expect(root.classList).toContain('rai-nb-error');
    expect(root.textContent).toContain(message);
  });

  it('reads missing and infinite cells as numbers', () => {
    expect([
      cellNumber(null),
      cellNumber('inf'),
      cellNumber('-inf'),
      cellNumber('x')
    ]).toEqual([NaN, Infinity, -Infinity, null]);
  });
});

describe('commands and renderer registration', () => {
  it('finds the model card of an audit or a card', () => {
    expect(findModelCard(fixture('audit'))?.kind).toBe('model_card');
    expect(findModelCard(fixture('model_card'))?.title).toBe(
      fixture('model_card').title
    );
    expect(findModelCard(fixture('bias'))).toBeNull();
  });

  it('has a runnable tutorial', () => {
    const notebook = tutorialNotebook() as {
      nbformat: number;
      cells: { source: string }[];
    };
    expect(notebook.nbformat).toBe(4);
    expect(
      notebook.cells.some(c => c.source.includes('%audit model test_df'))
    ).toBe(true);
  });

  it('registers a safe renderer that draws the report', async () => {
    expect(rendererFactory.safe).toBe(true);
    expect(rendererFactory.mimeTypes).toEqual([REPORT_MIME]);
    const renderer = rendererFactory.createRenderer({
      mimeType: REPORT_MIME
    } as never);
    const report = fixture('slices');
    await renderer.renderModel({ data: { [REPORT_MIME]: report } } as never);
    expect(renderer.node.querySelector('.rai-nb-title')?.textContent).toBe(
      report.title
    );
  });
});

describe('hostile and malformed reports', () => {
  const propertyNames = [
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty'
  ];

  function hostileReport(): Report {
    const report = fixture('bias');
    const metrics = section(report, 'Metrics by group');
    const table = metrics.table!;
    table.columns = table.columns.map((c, j) =>
      j < propertyNames.length ? propertyNames[j] : c
    );
    table.rows[0].index = ['constructor'];
    report.kind = 'constructor';
    return report;
  }

  it('renders columns, categories and kinds named like object properties', () => {
    const root = renderReport(hostileReport());
    expect(root.classList.contains('rai-nb-error')).toBe(false);
    const headers = texts(
      sectionNode(root, 'Metrics by group').querySelectorAll('thead th')
    );
    for (const name of propertyNames) {
      expect(headers).toContain(name);
    }
  });

  it('shows a readable box for a null row, a bad chart or marks that are not lists', () => {
    const nullRow = fixture('bias');
    (section(nullRow, 'Metrics by group').table!.rows as unknown[])[0] = null;
    const longChart = fixture('bias');
    const withBars = longChart.sections.find(s => s.bars)!;
    withBars.bars!.labels = Array.from({ length: 200000 }, (_, i) => `g${i}`);
    withBars.bars!.values = Array.from({ length: 200000 }, (_, i) => i);
    const badMarks = fixture('bias');
    const marked = badMarks.sections.find(s => s.table)!;
    marked.marks = {
      [String(marked.table!.columns[0])]: 5 as unknown as number[]
    };
    for (const report of [nullRow, longChart]) {
      const root = renderReport(report);
      expect(root.classList.contains('rai-nb-error')).toBe(true);
      expect(root.textContent).toMatch(/^Cannot show this rai_nb report: /);
    }
    expect(() => renderReport(badMarks)).not.toThrow();
  });
});
