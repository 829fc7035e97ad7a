/* no_assets.c: the report's embedded scripts, empty, for fuzz targets that link
 * the analytics code without the CMake step that generates them (the config
 * fuzz target never renders a report). */
const char brs__an_uplot_js[] = "", brs__an_uplot_css[] = "", brs__an_report_js[] = "", brs__an_sweep_js[] = "";
