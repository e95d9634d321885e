// The prom-client classes we use, imported from their own modules: the package index also loads
// the Pushgateway (node:http, node:https) and the cluster aggregator, neither used here, which
// cost ~5 MiB of RSS in every gateway from start-up. Same classes, so same behaviour.

import Counter from 'prom-client/lib/counter'
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics'
import Gauge from 'prom-client/lib/gauge'
import Histogram from 'prom-client/lib/histogram'
import Registry from 'prom-client/lib/registry'

export { Counter, collectDefaultMetrics, Gauge, Histogram, Registry }
