// The timing loop both pages share: the stream is fetched and loaded
// (untimed), two warm-up passes let the JIT tiers settle, then each pass is
// timed with performance.now() around the side's pass(), which includes
// waiting for any asynchronous hash check it started.
export async function run(side, stream, passes) {
  const resp = await fetch('/stream/' + stream);
  if (!resp.ok) throw new Error('stream ' + stream + ': ' + resp.status);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  const loaded = side.load(bytes);
  if (typeof loaded !== 'number') throw new Error('load: ' + loaded);
  await side.pass(); // warm-up
  await side.pass();
  const ms = [];
  let result;
  for (let i = 0; i < passes; i++) {
    const t = performance.now();
    result = await side.pass();
    ms.push(performance.now() - t);
  }
  return { ms, result, finals: side.finals() };
}
