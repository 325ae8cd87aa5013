/**
 * What the web UI draws from a collection: its time series as JSON, and its report.html
 * re-created on the server (`benchmon report COLLECTION_ID`).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MonitoringService } from '../../sessions/monitoring-service.js';
import { ErrorSchema } from '../error-handler.js';
import { CollectionParams } from './collections.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema };

export const collectionDataRoutes: FastifyPluginAsyncTypebox<{ service: MonitoringService }> = async (app, { service }) => {
  app.get('/api/v1/collections/:collection_id/timeseries', {
    schema: {
      tags: ['collections'],
      summary: "The collection's time series (from timeseries.csv) for plots",
      description: 'One time axis (`timestamps`, Unix seconds) shared by every series; each series has its kpi, unit, slice ("overall" or the label set) and `values` aligned to the axis (null: no point, or ±Inf, counted in non_finite_points). `panels` group the KPIs for plotting: KPIs whose names differ only by a trailing statistic (_p50, _p99, _mean, _avg, _max, _min) and share a unit are one panel.',
      params: CollectionParams,
      response: { 200: Type.Unknown(), ...errors },
    },
  }, async (request) => service.collectionTimeseries(request.params.collection_id));

  app.post('/api/v1/collections/:collection_id/report', {
    schema: {
      tags: ['collections'],
      summary: "Re-create the collection's report.html (self-contained: opens from disk with no server) and answer its path",
      params: CollectionParams,
      response: { 200: Type.Object({ collection_id: Type.String(), path: Type.String() }), ...errors },
    },
  }, async (request) => service.writeCollectionReport(request.params.collection_id));
};
