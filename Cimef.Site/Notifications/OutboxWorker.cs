using Cimef.Site.Web;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Notifications;

/// <summary>Sends the outbox in the background: <see cref="OutboxProcessor"/> batches until none is full, every poll.</summary>
public sealed class OutboxWorker(IServiceScopeFactory scopes, IOptions<NotificationsOptions> options, TimeProvider time, ILogger<OutboxWorker> log)
    : PollingWorker(scopes, options, time, log)
{
    protected override string PassName => "Outbox pass";

    protected override async Task PassAsync(IServiceProvider services, CancellationToken ct)
    {
        var processor = services.GetRequiredService<OutboxProcessor>();
        while (await processor.ProcessDueAsync(ct) == OutboxProcessor.BatchSize) { }
    }
}
