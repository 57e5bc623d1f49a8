/** The tutorial notebook the "Open rai_nb Tutorial" command writes. */

type Cell = { cell_type: 'markdown' | 'code'; source: string };

const TUTORIAL_CELLS: Cell[] = [
  {
    cell_type: 'markdown',
    source: [
      '# rai_nb tutorial: audit a recidivism model',
      '',
      'This notebook trains a small model on the COMPAS data bundled with rai_nb and audits it: ',
      'fairness by group, problem slices, data checks, explanations and a model card. The saved ',
      'notebook shows the report again without a kernel.'
    ].join('\n')
  },
  {
    cell_type: 'code',
    source: [
      'import rai_nb',
      'from sklearn.ensemble import HistGradientBoostingClassifier',
      '',
      'compas = rai_nb.load_compas()',
      'features = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]',
      'train, test_df = compas.iloc[:4000], compas.iloc[4000:]',
      'model = HistGradientBoostingClassifier(max_iter=50).fit(train[features], train["two_year_recid"])'
    ].join('\n')
  },
  {
    cell_type: 'markdown',
    source:
      'Audit the model on the held-out rows, by race and sex, with the training rows as reference:'
  },
  {
    cell_type: 'code',
    source: [
      '%load_ext rai_nb',
      '%audit model test_df --target two_year_recid --sensitive race,sex --reference train'
    ].join('\n')
  },
  {
    cell_type: 'markdown',
    source: [
      'Write the model card (the narrative in YAML, the numbers from the audit above). ',
      'In JupyterLab, *Responsible AI → Export Model Card as Markdown* saves the card of a ',
      'selected output too.'
    ].join('\n')
  },
  {
    cell_type: 'code',
    source: [
      '%%modelcard --out MODEL_CARD.md',
      'name: Recidivism model (tutorial)',
      'intended_use: Teaching fairness auditing; not for decisions about people.'
    ].join('\n')
  }
];

/** The tutorial as nbformat 4 JSON. */
export function tutorialNotebook(): { [key: string]: unknown } {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3 (ipykernel)',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    cells: TUTORIAL_CELLS.map((cell, i) => ({
      id: `rai-nb-tutorial-${i}`,
      metadata: {},
      ...cell,
      ...(cell.cell_type === 'code'
        ? { execution_count: null, outputs: [] }
        : {})
    }))
  };
}
