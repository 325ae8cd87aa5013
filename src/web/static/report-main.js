/* report.html: reads the data island and renders the collection with the UI's own view code. */
(function (global) {
  'use strict';
  const root = document.getElementById('app');
  try {
    const data = JSON.parse(document.getElementById('benchmon-data').textContent);
    global.BenchmonCollectionView.renderCollection(root, {
      manifest: data.manifest,
      timeseries: data.timeseries,
      footer: `Report generated ${data.generated_at} by benchmon ${data.benchmon_version}. Re-create it with: benchmon report <collection directory>`,
    });
  } catch (err) {
    root.append(global.BenchmonDom.h('p', { class: 'error' }, `This report could not be drawn: ${err && err.message ? err.message : err}`));
    throw err;
  }
})(globalThis);
