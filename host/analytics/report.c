/* report.c: report.html, one self-contained page that works offline: the run's
 * data as an inline JSON block (report_data.c), the uPlot charting library and
 * the page script (report.js), both inlined at build time (report_assets.c is
 * generated from them). No network, no external file; output is deterministic. */
#include "an_internal.h"

#include <stdlib.h>
#include <string.h>

static void html(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

/* An ISO time without its trailing zero fraction: "...T09:30:00.000000000Z" -> "...T09:30:00Z". */
static void html_time(FILE *fp, const char *iso)
{
    char b[64];
    snprintf(b, sizeof b, "%s", iso);
    char *dot = strchr(b, '.');
    if (dot && strspn(dot + 1, "0") == strlen(dot + 1) - 1 && b[strlen(b) - 1] == 'Z')
        strcpy(dot, "Z");
    html(fp, b);
}

void brs__an_put_script(FILE *fp, const char *text)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, fp);
        if (p[0] == '<' && p[1] == '/')
            fputc('\\', fp); /* "<\/": the same text to JS and JSON, never a closing tag */
    }
}

static const char CSS[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:24px auto;max-width:1140px;color:#1d2330;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
    "h3{font-size:15px;margin:18px 0 6px}.sub{color:#5a6375;margin-bottom:14px}"
    ".cards{display:flex;gap:10px;flex-wrap:wrap;margin:10px 0 8px}"
    ".card{border:1px solid #d9dee8;border-radius:6px;padding:8px 14px;min-width:120px}"
    ".card span{display:block;color:#5a6375;font-size:12px}.card b{font-size:18px}"
    ".chart{position:relative;margin:10px 0}.ctitle{font-weight:600;margin-bottom:2px}"
    ".tip{position:absolute;z-index:10;pointer-events:none;white-space:pre;background:rgba(255,255,255,.95);"
    "border:1px solid #aab3c5;border-radius:4px;padding:4px 8px;font-size:12px;box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    ".toolbar{display:flex;gap:6px;align-items:center;margin:6px 0}.toolbar button,.pager button{font:inherit;padding:1px 9px}"
    ".zoomstate{color:#5a6375;font-size:12px;margin-left:8px}.controls label{margin-right:14px}"
    ".legend{font-size:12px;color:#5a6375}.na{color:#8a93a6;border-bottom:1px dotted #8a93a6;cursor:help}"
    ".heat td{text-align:right;font-size:12px;padding:3px 6px}.heat th{font-weight:500;color:#5a6375}.heat .ycol{font-weight:600}"
    ".sortable{cursor:pointer;user-select:none}.sortable[data-sort=asc]:after{content:' \\25b2'}"
    ".sortable[data-sort=desc]:after{content:' \\25bc'}.pos{color:#1e7e3a}.neg{color:#c0392b}"
    ".trades td{white-space:nowrap;font-size:12px}.pager{margin:6px 0}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border-bottom:1px solid #e3e7ef;padding:4px 8px;text-align:left}"
    ".metrics th{color:#5a6375;font-weight:500;width:17%}.metrics td{font-variant-numeric:tabular-nums;width:16%}"
    ".list td{font-variant-numeric:tabular-nums}"
    "pre{background:#f5f7fa;border:1px solid #d9dee8;padding:10px;overflow:auto;font-size:12px}"
    ".note{color:#5a6375}";

int brs__an_render_report(FILE *fp, const brs_an_report_input *in)
{
    const brs_an_series *s = in->series;
    const char *title = in->title && *in->title ? in->title : "Backtest";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
          fp);
    html(fp, title);
    fputs(" &#8212; Bourse report</title>\n<style>", fp);
    brs__an_put_script(fp, brs__an_uplot_css);
    fprintf(fp, "\n%s</style></head>\n<body>\n<h1>", CSS);
    html(fp, title);
    fputs("</h1>\n<div class=\"sub\">", fp);
    const cJSON *mode = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "mode") : NULL;
    const cJSON *st = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "start") : NULL;
    const cJSON *en = in->summary ? cJSON_GetObjectItemCaseSensitive(in->summary, "end") : NULL;
    if (cJSON_IsString(mode)) {
        html(fp, mode->valuestring);
        fputs(" mode", fp);
    }
    if (cJSON_IsString(st) && cJSON_IsString(en)) {
        fputs(" &#183; ", fp);
        html_time(fp, st->valuestring);
        fputs(" &#8594; ", fp);
        html_time(fp, en->valuestring);
    }
    fprintf(fp, " &#183; %zu equity samples", s->n);
    if (in->bench_name) {
        fputs(" &#183; benchmark: ", fp);
        html(fp, in->bench_name);
    }
    fputs("</div>\n<noscript><p class=\"note\">This report draws its charts and tables with "
          "the JavaScript inlined in the page (no network is used); enable JavaScript to see "
          "them. The figures are in summary.json beside this file.</p></noscript>\n"
          "<main id=\"report\"></main>\n<script type=\"application/json\" id=\"brs-data\">",
          fp);
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    if (mem) {
        brs__an_report_data(mem, in);
        fclose(mem);
    }
    brs__an_put_script(fp, data ? data : "{}");
    free(data);
    fputs("</script>\n<script>", fp);
    brs__an_put_script(fp, brs__an_uplot_js);
    fputs("</script>\n<script>", fp);
    brs__an_put_script(fp, brs__an_report_js);
    fputs("</script>\n</body></html>\n", fp);
    return BRS_OK;
}
