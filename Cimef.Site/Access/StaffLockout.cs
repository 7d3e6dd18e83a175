using System.Globalization;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Access;

/// <summary>
/// Staff lockout in two buckets per account, as the patient throttle keeps two per key: attempts from a device that
/// presents the account's staff device cookie (<see cref="DeviceCookies.RecognisesStaff"/>, set by an earlier
/// successful sign-in) and all others. The others use Identity's own lockout (AccessFailedCount, LockoutEnd, which the
/// staff page shows and lifts); the recognised devices have a counter of their own, kept as an Identity user token, with
/// the same limits (<see cref="LockoutOptions"/>). So a stranger's failures lock the account for strangers only, and
/// the owner's own failures still lock their device. A success resets only the bucket it succeeded in.
/// </summary>
public sealed class StaffLockout(UserManager<StaffUser> users, IOptions<IdentityOptions> identity, TimeProvider time)
{
    private const string TokenProvider = "Cimef";
    private const string DeviceBucket = "DeviceSignInFailures";

    public async Task<bool> IsLockedOutAsync(StaffUser user, bool device)
    {
        if (!device) return await users.IsLockedOutAsync(user);
        var (_, until) = await ReadDeviceBucketAsync(user);
        return until > time.GetUtcNow();
    }

    /// <summary>Counts a wrong password in its bucket; true when this failure is the one that locks it.</summary>
    public async Task<bool> FailedAsync(StaffUser user, bool device)
    {
        if (!device)
        {
            await users.AccessFailedAsync(user);
            return await users.IsLockedOutAsync(user);
        }
        var lockout = identity.Value.Lockout;
        var (failures, _) = await ReadDeviceBucketAsync(user);
        if (++failures < lockout.MaxFailedAccessAttempts)
        {
            await WriteDeviceBucketAsync(user, failures, null);
            return false;
        }
        await WriteDeviceBucketAsync(user, 0, time.GetUtcNow() + lockout.DefaultLockoutTimeSpan);
        return true;
    }

    public async Task SucceededAsync(StaffUser user, bool device)
    {
        if (device) await users.RemoveAuthenticationTokenAsync(user, TokenProvider, DeviceBucket);
        else await users.ResetAccessFailedCountAsync(user);
    }

    /// <summary>An admin lifts the lockout: both buckets.</summary>
    public async Task UnlockAsync(StaffUser user)
    {
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        await users.RemoveAuthenticationTokenAsync(user, TokenProvider, DeviceBucket);
    }

    /// <summary>The device bucket as "failures|locked-until (Unix seconds, 0 = none)".</summary>
    private async Task<(int Failures, DateTimeOffset? Until)> ReadDeviceBucketAsync(StaffUser user)
    {
        var parts = (await users.GetAuthenticationTokenAsync(user, TokenProvider, DeviceBucket))?.Split('|');
        if (parts is not { Length: 2 }
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var failures)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var until))
            return (0, null);
        return (failures, until == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(until));
    }

    private Task WriteDeviceBucketAsync(StaffUser user, int failures, DateTimeOffset? until) =>
        users.SetAuthenticationTokenAsync(user, TokenProvider, DeviceBucket,
            string.Create(CultureInfo.InvariantCulture, $"{failures}|{until?.ToUnixTimeSeconds() ?? 0}"));
}
