// One plotly figure, drawn by the cartesian bundle (see charts.py). Streamlit calls the default
// export at every run that sends the chart; the figure is redrawn in place with Plotly.react.
// `data` is {figure: the figure's JSON as plotly.py writes it, clickable: whether clicks are sent}.

// The modebar as st.plotly_chart shows it: no logo, no lasso or box select, and a full-screen
// button (for a projector); in full screen the chart fills the screen and is redrawn to fit.
const FULL_SCREEN = {
  name: "Full screen",
  icon: { width: 1000, height: 1000, ascent: 1000, descent: 0,
          path: "M0 0h380v110H110v270H0zM620 0h380v380H890V110H620zM0 620h110v270h270v110H0zM890 620h110v380H620V890h270z" },
  click: (gd) => (document.fullscreenElement ? document.exitFullscreen() : gd.requestFullscreen()),
};
const CONFIG = { displaylogo: false, showSendToCloud: false, modeBarButtonsToRemove: ["lasso2d", "select2d"],
                 modeBarButtonsToAdd: [FULL_SCREEN] };

export default function ({ data, parentElement, setTriggerValue }) {
  const figure = JSON.parse(data.figure);
  let gd = parentElement.querySelector(":scope > div.hx-chart");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "hx-chart";
    parentElement.appendChild(gd);
  }
  gd.style.height = `${figure.layout.height || 450}px`;
  gd.hxClick = data.clickable ? setTriggerValue : null;  // read at each click: the latest run's
  let current = true;

  window.__hxPlotly.then((Plotly) => {
    if (!current) return;
    const layout = { ...figure.layout, autosize: true };
    delete layout.width;  // the chart takes its column's width
    return Plotly.react(gd, figure.data, layout, CONFIG).then(() => {
      if (gd.hxListening) return;
      gd.hxListening = true;
      gd.on("plotly_click", (event) => {
        const point = (event.points || []).find((p) => typeof p.x === "number" && typeof p.y === "number");
        if (point && gd.hxClick) gd.hxClick("click", { x: point.x, y: point.y });
      });
      let size = `${gd.clientWidth}x${gd.clientHeight}`;  // redraw only when the size really changes
      new ResizeObserver(() => {
        if (gd.isConnected && `${gd.clientWidth}x${gd.clientHeight}` !== size) {
          size = `${gd.clientWidth}x${gd.clientHeight}`;
          Plotly.Plots.resize(gd);
        }
      }).observe(gd);
    });
  }).catch(() => {
    gd.textContent = "The chart library did not load. Reload the page to try again.";
  });

  return () => { current = false; };
}
