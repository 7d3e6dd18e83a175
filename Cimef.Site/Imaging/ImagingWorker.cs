using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Imaging;

/// <summary>Follows the PACS's changes feed every poll, on one node of a cluster at a time (the leader).</summary>
public sealed class ImagingWorker(IServiceScopeFactory scopes, IOptions<NotificationsOptions> options, TimeProvider time, ClusterLeader leader,
    ILogger<ImagingWorker> log) : PollingWorker(scopes, options, time, log)
{
    protected override string PassName => "Imaging changes pass";

    protected override async Task PassAsync(IServiceProvider services, CancellationToken ct)
    {
        if (!await leader.IsLeaderAsync(ct)) return;
        try
        {
            await services.GetRequiredService<StudyLinker>().FollowChangesAsync(ct);
        }
        catch (OrthancClient.UnavailableException)
        {
            // Already logged and alerted once by PacsHealth; the next poll tries again.
        }
    }
}
