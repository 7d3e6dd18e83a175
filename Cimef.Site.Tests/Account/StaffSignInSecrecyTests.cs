using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Account;

/// <summary>
/// The staff sign-in tells a stranger nothing (one message whatever the reason), tells the owner when their account
/// locks, and a stranger's failures never keep the owner out of a device they signed in from before.
/// </summary>
public partial class StaffSignInSecrecyTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private static Dictionary<string, string> Form(string email, string password) =>
        new() { ["Input.Email"] = email, ["Input.Password"] = password };

    [GeneratedRegex("""validation-summary-errors[^>]*><ul><li>(.*?)</li>""", RegexOptions.Singleline)]
    private static partial Regex SummaryError();

    private static async Task<string> RefusalAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var match = SummaryError().Match(await response.Content.ReadAsStringAsync());
        Assert.True(match.Success, "no error message on the sign-in page");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private async Task FailAsync(HttpClient client, string email, int times)
    {
        for (var i = 0; i < times; i++)
            await RefusalAsync(await client.PostFormAsync("/Account/SignIn", Form(email, "mauvais-mdp-" + i)));
    }

    [Fact]
    public async Task Locked_disabled_unknown_and_wrong_password_get_the_same_french_message()
    {
        await factory.CreateStaffAsync("same-locked@cimef.test", Roles.Secretary);
        await factory.CreateStaffAsync("same-off@cimef.test", Roles.Secretary);
        await factory.CreateStaffAsync("same-wrong@cimef.test", Roles.Secretary);
        await FailAsync(factory.NewClient(), "same-locked@cimef.test", 5);
        await factory.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<StaffUser>>();
            var u = (await users.FindByEmailAsync("same-off@cimef.test"))!;
            u.IsDisabled = true;
            await users.UpdateAsync(u);
        });

        var client = factory.NewClient();
        var locked = await RefusalAsync(await client.PostFormAsync("/Account/SignIn", Form("same-locked@cimef.test", CimefFactory.StaffPassword)));
        var disabled = await RefusalAsync(await client.PostFormAsync("/Account/SignIn", Form("same-off@cimef.test", CimefFactory.StaffPassword)));
        var unknown = await RefusalAsync(await client.PostFormAsync("/Account/SignIn", Form("same-nobody@cimef.test", CimefFactory.StaffPassword)));
        var wrong = await RefusalAsync(await client.PostFormAsync("/Account/SignIn", Form("same-wrong@cimef.test", "pas-le-bon-1")));

        Assert.StartsWith("Adresse e-mail ou mot de passe incorrect", wrong);
        Assert.Equal(wrong, locked);
        Assert.Equal(wrong, disabled);
        Assert.Equal(wrong, unknown);
    }

    [Fact]
    public async Task The_owner_gets_one_french_email_through_the_outbox_when_their_account_locks()
    {
        const string email = "lock-mail@cimef.test";
        await factory.CreateStaffAsync(email, Roles.Accountant);
        var stranger = factory.NewClient();
        await FailAsync(stranger, email, 4);
        Assert.Empty(await MessagesToAsync(email));
        await FailAsync(stranger, email, 1);
        // Attempts while it is locked lock nothing anew.
        await FailAsync(stranger, email, 3);
        await RefusalAsync(await stranger.PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword)));

        var queued = Assert.Single(await MessagesToAsync(email));
        Assert.Equal(OutboxChannel.Email, queued.Channel);
        Assert.Null(queued.PatientId);

        await factory.ProcessOutboxAsync();
        Assert.Equal(OutboxStatus.Sent, Assert.Single(await MessagesToAsync(email)).Status);
        var mail = Directory.GetFiles(Path.Combine(factory.DataDir, "mail-pickup"), "*.eml")
            .Select(f => MimeKit.MimeMessage.Load(f))
            .Single(m => m.To.Mailboxes.Any(a => a.Address == email));
        Assert.Contains("tentatives", mail.TextBody);
        Assert.Contains("Si ce n'était pas vous", mail.TextBody);
        Assert.DoesNotContain(CimefFactory.StaffPassword, mail.TextBody);
    }

    [Fact]
    public async Task A_strangers_failures_do_not_keep_the_owner_out_of_a_device_they_signed_in_from()
    {
        const string email = "device-admin@cimef.test";
        await factory.CreateStaffAsync(email, Roles.Admin);
        var owner = factory.NewClient();
        Assert.Equal(HttpStatusCode.Redirect, (await owner.PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword))).StatusCode);

        // Someone else, another client, locks the account for everyone but the owner's device.
        var attacker = factory.NewClient();
        await FailAsync(attacker, email, 8);
        await RefusalAsync(await attacker.PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword)));
        await RefusalAsync(await factory.NewClient().PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword)));

        var again = await owner.PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword));
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal("/", again.Headers.Location!.OriginalString);

        // The owner's device counts its own failures: five lock it too.
        await FailAsync(owner, email, 5);
        await RefusalAsync(await owner.PostFormAsync("/Account/SignIn", Form(email, CimefFactory.StaffPassword)));
    }

    private Task<List<OutboxMessage>> MessagesToAsync(string email) =>
        factory.WithDbAsync(db => db.OutboxMessages.Where(m => m.Recipient == email).ToListAsync());
}
