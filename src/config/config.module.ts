import { Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { appConfig } from './app.config';

/** The only place that reads the environment (see app.config.ts). */
@Module({
  imports: [NestConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] })],
})
export class ConfigModule {}
