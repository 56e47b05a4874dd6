// The DataSource the TypeORM CLI uses (`npm run migration:generate`, `npm run migration:run`).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../config/app.config';
import { buildDataSourceOptions } from './data-source-options';

export default new DataSource(buildDataSourceOptions(loadAppConfig(process.env)));
