// Starts loading plotly.js's cartesian bundle once per page and shares the promise of it: the
// session's first run sends this as the preload, and every chart waits on the same promise.
// The bundle is a fixed file of the app (static/, served at app/static/); nothing here is user text.
window.__hxPlotly = window.__hxPlotly || new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = new URL("app/static/plotly-cartesian.min.js", document.baseURI).href;
  script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("no Plotly")));
  script.onerror = () => reject(new Error("plotly.js did not load"));
  document.head.appendChild(script);
});
