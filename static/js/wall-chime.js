/**
 * ?sound=1: a short chime when a new alert opens. Browsers let a page play sound only after
 * the user has clicked or pressed a key on it (autoplay rules), so the wall shows "Click or
 * press a key to enable sound" until then and starts Web Audio in that gesture.
 */

export function initChime({ enabled, hint }) {
  if (!enabled) return { play() {}, ready: () => false };
  // Safari 14 has only the prefixed constructor; neither means no chime.
  // eslint-disable-next-line compat/compat -- feature-detected here
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  if (!AudioCtx) return { play() {}, ready: () => false };
  let ctx = null;
  if (hint) hint.hidden = false;

  function unlock() {
    if (!ctx) ctx = new AudioCtx();
    const done = () => {
      if (ctx.state !== "running") return;
      if (hint) hint.hidden = true;
      document.body.dataset.sound = "on";
      window.removeEventListener("click", unlock, true);
      window.removeEventListener("keydown", unlock, true);
    };
    if (ctx.state === "suspended" && ctx.resume) ctx.resume().then(done, () => {});
    else done();
  }
  window.addEventListener("click", unlock, true);
  window.addEventListener("keydown", unlock, true);

  /** Two soft tones, 0.4 s in all. */
  function play() {
    if (!ctx || ctx.state !== "running") return false;
    const start = ctx.currentTime;
    [880, 660].forEach((hz, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, start + i * 0.2);
      gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.2 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.2 + 0.19);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + i * 0.2);
      osc.stop(start + i * 0.2 + 0.2);
    });
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
    return true;
  }

  return { play, ready: () => !!ctx && ctx.state === "running" };
}
