import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '../../common/pagination';
import { MODEL_EVENT_ACTIONS, ModelEventAction } from '../model-event.entity';

export class ModelEventResponse {
  /** Increases with every event. */
  @ApiProperty({ example: 42 })
  id: number;

  @ApiProperty({ enum: MODEL_EVENT_ACTIONS, example: 'alias_set' })
  action: ModelEventAction;

  @ApiProperty({ example: 'production', nullable: true, type: String })
  alias: string | null;

  @ApiProperty({ example: 1, nullable: true, type: Number })
  fromVersion: number | null;

  @ApiProperty({ example: 2, nullable: true, type: Number })
  toVersion: number | null;

  /** Who acted (the API key's name once authentication exists). */
  @ApiProperty({ nullable: true, type: String, example: 'ci-pipeline' })
  actor: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T14:48:18.090Z' })
  createdAt: string;
}

export class ModelEventPageResponse extends PageOf(ModelEventResponse) {}
