import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createFastifyAdapter, NEST_APP_OPTIONS } from './app.setup';
import { installGracefulShutdown } from './app.shutdown';
import { appConfig } from './config/app.config';
import { exitOnStartupFailure } from './common/startup-failure';

async function bootstrap(): Promise<void> {
  const config = appConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createFastifyAdapter(config),
    { ...NEST_APP_OPTIONS, bufferLogs: true },
  );
  await configureApp(app, config);
  installGracefulShutdown(app, config);
  await app.listen(config.port, config.host);
  app
    .getHttpAdapter()
    .getInstance()
    .log.info(
      { port: config.port, dataDir: config.dataDir },
      `ModelDock listening on http://${config.host}:${config.port} (Swagger UI at /docs)`,
    );
}

bootstrap().catch(exitOnStartupFailure('modeldock'));
