/**
 * `benchmon grafana --out DIR`: writes the Grafana provisioning files (datasource, dashboard
 * provider, one dashboard per recipe). Local: it reads the recipes and writes files, no API call.
 * The files committed under grafana/ are this command's output with the defaults.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { listBuiltinRecipes, loadRecipe } from '../../collect/recipes/load.js';
import type { Recipe } from '../../collect/recipes/schema.js';
import { isBenchmonError } from '../../errors.js';
import { GRAFANA_DEFAULTS, renderGrafanaFiles, writeGrafanaFiles, type GrafanaFile } from '../../grafana/provisioning.js';
import { globals } from '../context.js';
import { print, printJson } from '../output.js';
import { UsageError } from './targets.js';

const FLAG_OF_FIELD: Record<string, string> = {
  prometheus_url: '--prometheus-url',
  scrape_interval: '--scrape-interval',
  dashboards_path: '--dashboards-path',
  recipes: '--recipe',
};

interface GrafanaOptions {
  out: string;
  prometheusUrl: string;
  scrapeInterval: string;
  dashboardsPath: string;
  recipe?: string[];
}

export function registerGrafanaCommand(program: Command): void {
  program
    .command('grafana')
    .description('Write Grafana provisioning files: a Prometheus datasource and one dashboard per recipe (session variable); no API call')
    .option('--out <dir>', 'output directory; gets provisioning/datasources/ and provisioning/dashboards/', 'grafana')
    .option('--prometheus-url <url>', 'where Grafana reaches Prometheus (the datasource url)', GRAFANA_DEFAULTS.prometheusUrl)
    .option('--scrape-interval <duration>', "the sessions' scrape interval (the datasource's timeInterval, base of $__rate_interval)", GRAFANA_DEFAULTS.scrapeInterval)
    .option('--dashboards-path <path>', 'where Grafana sees the dashboard JSON files (the provider path)', GRAFANA_DEFAULTS.dashboardsPath)
    .option('--recipe <name|file...>', 'recipes to make dashboards of: built-in names or recipe YAML files (default: every built-in recipe)')
    .action(async (opts: GrafanaOptions, cmd: Command) => {
      const refs = opts.recipe ?? listBuiltinRecipes();
      let recipes: Recipe[];
      let files: GrafanaFile[];
      try {
        recipes = refs.map((ref) => loadRecipe(ref, { allowFiles: true, field: '--recipe' }));
        files = renderGrafanaFiles({ prometheusUrl: opts.prometheusUrl, scrapeInterval: opts.scrapeInterval, dashboardsPath: opts.dashboardsPath, recipes });
      } catch (err) {
        if (!isBenchmonError(err)) throw err;
        const field = typeof err.details?.field === 'string' ? err.details.field : '';
        const flag = FLAG_OF_FIELD[field];
        throw new UsageError(flag ? err.message.replace(`${field}:`, `${flag}:`) : err.message);
      }
      const written = await writeGrafanaFiles(path.resolve(opts.out), files);
      if (globals(cmd).json === true) return printJson({ files: written, recipes: recipes.map((r) => r.name) });
      print(`wrote ${written.length} files (dashboards: ${recipes.map((r) => r.name).join(', ')}):`);
      for (const f of written) print(`  ${f}`);
      print(`point Grafana at ${path.join(path.resolve(opts.out), 'provisioning')} (mount it as /etc/grafana/provisioning)`);
    });
}
