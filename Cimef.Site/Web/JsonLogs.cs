using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cimef.Site.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>
/// <c>Logging:Format=json</c>: the console (and so journald or a Loki agent) gets one JSON object per line — time (UTC),
/// level, category, event id, message, exception, this node's name (<c>Cluster:NodeName</c>) and the request's trace
/// id — so the lines of several nodes can be merged and filtered. Any other value keeps the readable console.
/// </summary>
public static class JsonLogs
{
    public static WebApplicationBuilder AddLogFormat(this WebApplicationBuilder builder)
    {
        if (!string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase)) return builder;
        // Set after AddSystemd's choice, so a service under systemd writes JSON too.
        builder.Logging.AddConsole(o => o.FormatterName = JsonLogFormatter.Name);
        builder.Logging.AddConsoleFormatter<JsonLogFormatter, ConsoleFormatterOptions>();
        return builder;
    }
}

public sealed class JsonLogFormatter(IOptions<ClusterOptions> cluster) : ConsoleFormatter(Name)
{
    public new const string Name = "cimef-json";
    private static readonly JsonWriterOptions Options = new() { Indented = false };

    public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = entry.Formatter(entry.State, entry.Exception);
        if (message is null && entry.Exception is null) return;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTime.UtcNow);
            json.WriteString("level", entry.LogLevel.ToString());
            json.WriteString("category", entry.Category);
            json.WriteNumber("event_id", entry.EventId.Id);
            if (entry.EventId.Name is { } eventName) json.WriteString("event_name", eventName);
            json.WriteString("message", message);
            if (entry.Exception is not null) json.WriteString("exception", entry.Exception.ToString());
            json.WriteString("node", cluster.Value.NodeName);
            // Formatted on the thread that logs, so the current activity is the request's (ASP.NET Core starts one per request).
            if (Activity.Current is { } activity)
            {
                json.WriteString("trace_id", activity.TraceId.ToHexString());
                json.WriteString("span_id", activity.SpanId.ToHexString());
            }
            json.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }
}
