import {
  auditCell,
  guessFrame,
  guessSensitive,
  guessTarget,
  NamespaceSummary,
  readSummary
} from '../src/auditcell';

const COMPAS = ['age', 'priors_count', 'race', 'sex', 'two_year_recid'];

function summary(over: Partial<NamespaceSummary> = {}): NamespaceSummary {
  return {
    frames: [
      { name: 'compas', kind: 'pandas', columns: COMPAS },
      { name: 'test_df', kind: 'pandas', columns: COMPAS }
    ],
    models: ['model', 'other'],
    loaded: false,
    ...over
  };
}

describe('the %audit cell from the kernel namespace', () => {
  it('fills in the first model, the held-out frame and guessed columns', () => {
    expect(auditCell(summary())).toBe(
      '%load_ext rai_nb\n' +
        '%audit model test_df --target two_year_recid --sensitive age,race,sex'
    );
  });

  it('leaves out %load_ext once the magics are loaded', () => {
    expect(auditCell(summary({ loaded: true }))).toBe(
      '%audit model test_df --target two_year_recid --sensitive age,race,sex'
    );
  });

  it('takes the first frame when no name says held-out', () => {
    const frames = [
      { name: 'adult', kind: 'dask', columns: ['x'] },
      { name: 'latest', kind: 'pandas', columns: ['y'] }
    ];
    expect(guessFrame(frames)?.name).toBe('adult');
    expect(
      guessFrame([...frames, { name: 'X_test', kind: 'pandas', columns: [] }])
        ?.name
    ).toBe('X_test');
    expect(
      guessFrame([{ name: 'contest', kind: 'pandas', columns: [] }, ...frames])
        ?.name
    ).toBe('contest');
    expect(guessFrame([])).toBeNull();
  });

  it('guesses the target by name, else the last column', () => {
    expect(guessTarget(['Label', 'y', 'x'])).toBe('Label');
    expect(guessTarget(['a', 'Income', 'b'])).toBe('Income');
    expect(guessTarget(['a', 'b', 'c'])).toBe('c');
    expect(guessTarget([])).toBeNull();
  });

  it('guesses sensitive columns by whole words, never the target', () => {
    expect(
      guessSensitive(
        [
          'age_cat',
          'marital-status',
          'Gender',
          'wage',
          'percentage',
          'page',
          'a,sex'
        ],
        null
      )
    ).toEqual(['age_cat', 'marital-status', 'Gender']);
    expect(guessSensitive(['sex', 'race'], 'sex')).toEqual(['race']);
  });

  it('marks what it could not guess as placeholders with a note', () => {
    const cell = auditCell({
      frames: [{ name: 'df', kind: 'pandas', columns: ['x', 'outcome'] }],
      models: [],
      loaded: true
    });
    const [note, line] = cell.split('\n');
    expect(line).toBe('%audit MODEL df --target outcome --sensitive SENSITIVE');
    expect(note).toMatch(/^# Replace MODEL \(a fitted model.*\), SENSITIVE \(/);
    expect(auditCell({ frames: [], models: ['m'], loaded: true })).toBe(
      '# Replace DATA (a DataFrame: none was found), TARGET (the column of true labels), ' +
        'SENSITIVE (comma-separated sensitive columns: none is named like sex, race or age) ' +
        'before running this cell.\n' +
        '%audit m DATA --target TARGET --sensitive SENSITIVE'
    );
  });

  it('quotes a column with a space', () => {
    const cell = auditCell({
      frames: [
        { name: 'df', kind: 'pandas', columns: ['native sex', 'the label'] }
      ],
      models: ['m'],
      loaded: true
    });
    expect(cell).toBe(
      '%audit m df --target "the label" --sensitive "native sex"'
    );
  });

  it('falls back to the template with the reason when the kernel cannot be asked', () => {
    expect(auditCell(null, 'the kernel is busy')).toBe(
      "# rai_nb could not read your notebook's names (the kernel is busy): replace MODEL, " +
        'DATA, TARGET and SENSITIVE with your own.\n' +
        '%load_ext rai_nb\n' +
        '%audit MODEL DATA --target TARGET --sensitive SENSITIVE'
    );
    expect(auditCell(null)).toContain('(no kernel is running)');
  });
});

describe('reading the kernel reply', () => {
  it('takes the JSON of a successful user expression', () => {
    const found = summary();
    expect(
      readSummary({ status: 'ok', data: { 'application/json': found } })
    ).toEqual({
      summary: found
    });
  });

  it('says why there is no summary', () => {
    expect(
      readSummary({
        status: 'error',
        ename: 'ModuleNotFoundError',
        evalue: "No module named 'rai_nb'"
      })
    ).toEqual({
      reason:
        "the kernel could not run rai_nb (ModuleNotFoundError: No module named 'rai_nb')"
    });
    expect(readSummary(undefined)).toEqual({
      reason: 'the kernel could not run rai_nb (no answer)'
    });
    expect(readSummary({ status: 'ok', data: { 'text/plain': '{}' } })).toEqual(
      {
        reason: 'the kernel gave no summary of its names'
      }
    );
  });
});
