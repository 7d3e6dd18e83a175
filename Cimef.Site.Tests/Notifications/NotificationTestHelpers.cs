using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Notifications;

public static class NotificationTestHelpers
{
    /// <summary>One outbox pass, as the background worker runs it.</summary>
    public static async Task<int> ProcessOutboxAsync(this CimefFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<OutboxProcessor>().ProcessDueAsync();
    }

    public static Task<List<OutboxMessage>> OutboxOfAsync(this CimefFactory factory, int patientId) =>
        factory.WithDbAsync(db => db.OutboxMessages.Where(m => m.PatientId == patientId).OrderBy(m => m.Id).ToListAsync());
}
