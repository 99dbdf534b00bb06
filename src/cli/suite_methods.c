#include "cli/suite_methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "env/lr_control.h"
#include "optim/optimizer.h"
#include "rl/controller_file.h"
#include "rl/controller.h"

const char *const suite_method_keys[] = {"optimizer", "schedule", "lr", "controller", NULL};

static int read_rate(const char *text, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= 1e-12 && v <= 1e3))
        return alrs_fail("lr=%s: expected a rate from 1e-12 to 1000", text);
    *out = v;
    return 0;
}

/* The checkpoint's interface and fingerprint (the suite's config.txt holds it:
 * a rerun must run the same controller, not merely one at the same path);
 * without lr=, its default rate where the file has one. */
static int read_controller(suite_method *m, int lr_given) {
    controller c;
    if (controller_file_load_fingerprint(&c, m->controller, &m->controller_crc,
                                         &m->controller_bytes) != 0)
        return -2;
    if (!lr_given && c.origin.default_lr > 0) m->lr = c.origin.default_lr;
    m->iface = c.iface;
    controller_free(&c);
    return 0;
}

/* The line's settings, each checked on its own. */
static int resolve_fields(const suite_line *l, suite_method *m) {
    m->optimizer = suite_line_get(l, "optimizer");
    m->schedule = suite_line_get(l, "schedule");
    m->controller = suite_line_get(l, "controller");
    const char *lr = suite_line_get(l, "lr");
    if (!m->schedule == !m->controller)
        return alrs_fail("needs schedule=SPEC (with lr=X) or controller=PATH, one of them");
    if (m->schedule && !lr) return alrs_fail("schedule=%s needs lr=X", m->schedule);
    m->lr = SUITE_CONTROLLER_DEFAULT_LR;
    if (lr && read_rate(lr, &m->lr) != 0) return -1;
    if (m->optimizer && optimizer_check_name(m->optimizer) != 0) return -1;
    if (m->schedule) {
        if (!strncmp(m->schedule, "controller:", 11) || !strncmp(m->schedule, "replay:", 7))
            return alrs_fail("schedule=%s: a controller is controller=PATH; replay is not a "
                             "method", m->schedule);
        schedule s; /* the spec parses (its defaults resolve per task, later) */
        if (schedule_parse(&s, m->schedule, m->lr, 1000) != 0) return -1;
        schedule_free(&s);
        return 0;
    }
    return read_controller(m, lr != NULL);
}

int suite_methods_resolve(const suite_file *f, suite_method *out) {
    for (int i = 0; i < f->n; i++) {
        const suite_line *l = &f->lines[i];
        suite_method *m = &out[i];
        memset(m, 0, sizeof *m);
        m->name = l->name, m->line = l->line;
        if (suite_line_check_keys(f, l, "method", suite_method_keys) != 0) return -1;
        int rc = resolve_fields(l, m);
        if (rc != 0) {
            alrs_fail_context("%s:%d: method %s", f->path, l->line, l->name);
            return rc;
        }
    }
    return 0;
}

/* A controller acts at each validation; it must meet the interval it learned
 * with, and a start it can reach (lr_control_start_fits). */
static int controller_fits(const suite_method *m, const suite_task *t) {
    if (m->iface.action_every != t->run.eval_every)
        return alrs_fail("the controller acts every %d steps (it learned so) and the task "
                         "validates every %ld (eval-every); give the task eval-every=%d",
                         m->iface.action_every, t->run.eval_every, m->iface.action_every);
    if (!lr_control_start_fits(&m->iface.action, m->iface.lr_min, m->iface.lr_max, m->lr))
        return alrs_fail("lr %g is outside the controller's bounds [%g, %g]", m->lr,
                         m->iface.lr_min, m->iface.lr_max);
    return 0;
}

int suite_method_point(const suite_method *m, const suite_task *t, const char *methods_path,
                       grid_point *out) {
    memset(out, 0, sizeof *out);
    out->lr = m->lr;
    if (m->optimizer) snprintf(out->optimizer, sizeof out->optimizer, "%s", m->optimizer);
    int rc = 0;
    if (m->controller) {
        rc = controller_fits(m, t);
        if (rc == 0) snprintf(out->spec, sizeof out->spec, "controller:%s", m->controller);
    } else {
        schedule s;
        rc = schedule_parse(&s, m->schedule, m->lr, t->run.steps);
        if (rc == 0) schedule_format(&s, out->spec, sizeof out->spec);
        if (rc == 0) schedule_free(&s);
    }
    if (rc != 0)
        return alrs_fail_context("%s:%d: method %s does not fit task %s (line %d)", methods_path,
                                 m->line, m->name, t->name, t->line);
    return 0;
}
