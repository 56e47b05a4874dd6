import { useState } from 'preact/hooks';
import { get, Page } from '../api';
import { Loaded, useAsync } from '../components/async';
import { PageTitle } from '../components/layout';
import { time } from '../format';
import { href } from '../router';
import type { Model } from '../types';

const PAGE = 50;

/** Every model: search by name prefix or tag, aliases at a glance. */
export function ModelsPage() {
  const [prefix, setPrefix] = useState('');
  const [tag, setTag] = useState('');
  const [offset, setOffset] = useState(0);
  const models = useAsync(
    () => get<Page<Model>>('v1/models', { prefix, tag, sort: '-updatedAt', limit: PAGE, offset }),
    [prefix, tag, offset],
  );
  return (
    <>
      <PageTitle>Models</PageTitle>
      <form class="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <label>
          <span>Name starts with</span>
          <input
            type="search"
            value={prefix}
            onInput={(event) => {
              setOffset(0);
              setPrefix((event.target as HTMLInputElement).value);
            }}
          />
        </label>
        <label>
          <span>
            Tag (<code>key</code> or <code>key:value</code>)
          </span>
          <input
            type="search"
            value={tag}
            onInput={(event) => {
              setOffset(0);
              setTag((event.target as HTMLInputElement).value);
            }}
          />
        </label>
      </form>
      <Loaded state={models}>
        {(page) =>
          page.total === 0 ? (
            <p class="empty">
              No models{prefix || tag ? ' match' : ' yet'}. Upload a dataset and start a training
              job to make one.
            </p>
          ) : (
            <>
              <table>
                <caption class="visually-hidden">Models, most recently changed first</caption>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Latest version</th>
                    <th scope="col">Aliases</th>
                    <th scope="col">Tags</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((model) => (
                    <tr key={model.name}>
                      <th scope="row">
                        <a href={href('models', model.name)}>{model.name}</a>
                        {model.description && <div class="muted small">{model.description}</div>}
                      </th>
                      <td>{model.latestVersion ?? '—'}</td>
                      <td>
                        {Object.entries(model.aliases).map(([alias, version]) => (
                          <span class="badge" key={alias}>
                            {alias} → v{version}
                          </span>
                        ))}
                      </td>
                      <td>
                        {Object.entries(model.tags).map(([key, value]) => (
                          <span class="tag" key={key}>
                            {key}:{value}
                          </span>
                        ))}
                      </td>
                      <td>{time(model.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager total={page.total} offset={offset} size={PAGE} onChange={setOffset} />
            </>
          )
        }
      </Loaded>
    </>
  );
}

/** Previous / next through a list the API pages. */
export function Pager({
  total,
  offset,
  size,
  onChange,
}: {
  total: number;
  offset: number;
  size: number;
  onChange: (offset: number) => void;
}) {
  if (total <= size) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        disabled={offset === 0}
        onClick={() => onChange(Math.max(0, offset - size))}
      >
        Previous
      </button>
      <span>
        {offset + 1}–{Math.min(total, offset + size)} of {total}
      </span>
      <button
        type="button"
        disabled={offset + size >= total}
        onClick={() => onChange(offset + size)}
      >
        Next
      </button>
    </nav>
  );
}
