import { PageTitle } from '../components/layout';
import type { Route } from '../router';
import type { Identity } from '../session';
import { DatasetPage, DatasetsPage } from './datasets';
import { KeysPage } from './keys';
import { ModelPage } from './model';
import { ModelsPage } from './models';
import { JobPage, NewJobPage, TrainingJobsPage } from './training';
import { VersionPage } from './version';

/**
 * The page for a route. Routes: #/models, #/models/NAME, #/models/NAME/versions/N, #/datasets,
 * #/datasets/ID, #/training, #/training/new?dataset=ID, #/training/ID, #/keys.
 */
export function pageFor(route: Route, who: Identity) {
  const [section = 'models', id, sub, subId] = route.parts;
  switch (section) {
    case 'models':
      if (id && sub === 'versions' && subId)
        return <VersionPage name={id} version={Number(subId)} />;
      if (id) return <ModelPage name={id} />;
      return <ModelsPage />;
    case 'datasets':
      return id ? <DatasetPage id={id} /> : <DatasetsPage />;
    case 'training':
      if (id === 'new') return <NewJobPage dataset={route.query.get('dataset') ?? undefined} />;
      return id ? <JobPage id={id} /> : <TrainingJobsPage />;
    case 'keys':
      if (who.role === 'admin') return <KeysPage />;
      break;
  }
  return (
    <>
      <PageTitle>Not found</PageTitle>
      <p>
        There is no page at <code>{route.path}</code> for this key.{' '}
        <a href="#/models">Go to the models.</a>
      </p>
    </>
  );
}
