#!/usr/bin/perl
# The recipe of `qemu-p2p plan --for proxmox`, checked with Proxmox's own
# code: pve-common (SectionConfig, JSONSchema, SysFSTools), pve-guest-common
# (PVE/Mapping/PCI.pm) and qemu-server (PVE/QemuServer/PCI.pm), read from
# their source trees, never copied here. Only what needs a cluster is
# stood in for: pmxcfs (PVE::Cluster), the node name (PVE::INotify), the
# reservation file, and the machine type of a VM. SysFSTools reads the
# fixture tree instead of /sys (its one path variable, replaced on load).
#
# Usage: pve_check.pl PVE_COMMON PVE_GUEST_COMMON QEMU_SERVER RECIPE [SYSFS NODE]
# (the first three: the repositories' src/ directories). Without SYSFS, only
# that PCI.pm reads RECIPE as pci.cfg and writes it back unchanged. Prints
# TAP lines without numbers; the caller numbers them.
use strict;
use warnings;

my ($common, $guest, $qemu, $recipe, $sysfs, $node) = @ARGV;
die "usage: $0 PVE_COMMON PVE_GUEST_COMMON QEMU_SERVER RECIPE [SYSFS NODE]\n" if !defined($recipe);
$sysfs //= '/nonexistent';
$node //= 'localhost';
unshift @INC, $common, $guest, $qemu;

my $failed = 0;

sub result {
    my ($ok, $desc, $why) = @_;
    print(($ok ? "ok" : "not ok") . " - Proxmox: $desc\n");
    if (!$ok) {
        $failed++;
        print "# $_\n" for split(/\n/, $why // '');
    }
}

# Stand-ins for what needs a running cluster.
package PVE::Cluster {
    use base 'Exporter';
    our @EXPORT_OK = qw(cfs_lock_file cfs_read_file cfs_register_file cfs_write_file);
    sub cfs_register_file { }
    sub cfs_read_file { die "no pmxcfs here\n" }
    sub cfs_write_file { die "no pmxcfs here\n" }
    sub cfs_lock_file { die "no pmxcfs here\n" }
    $INC{'PVE/Cluster.pm'} = __FILE__;
}
package PVE::INotify {
    sub nodename { return $node }
    $INC{'PVE/INotify.pm'} = __FILE__;
}
package PVE::QemuServer::Machine {
    sub machine_type_is_q35 { return ($_[0]->{machine} // '') =~ m/q35/ }
    $INC{'PVE/QemuServer/Machine.pm'} = __FILE__;
}
package PVE::QemuServer::Helpers { $INC{'PVE/QemuServer/Helpers.pm'} = __FILE__; }
package PVE::QemuServer::PCI::Mdev { $INC{'PVE/QemuServer/PCI/Mdev.pm'} = __FILE__; }
package main;

# SysFSTools as shipped, reading the fixture tree.
{
    my $path = "$common/PVE/SysFSTools.pm";
    open(my $fh, '<', $path) or die "$path: $!\n";
    my $code = do { local $/; <$fh> };
    $code =~ s{my \$pcisysfs = "/sys/bus/pci";}{my \$pcisysfs = "$sysfs/bus/pci";}
        or die "$path: no \$pcisysfs to point at the fixture\n";
    eval "#line 1 \"$path\"\n$code; 1" or die $@;
    $INC{'PVE/SysFSTools.pm'} = $path;
}

require PVE::Mapping::PCI;
require PVE::QemuServer::PCI;
require PVE::JSONSchema;
require Text::ParseWords;

my $text = do { local $/; open(my $fh, '<', $recipe) or die "$recipe: $!\n"; <$fh> };

# 1. pci.cfg: the whole output, as pmxcfs would hand it to PCI.pm.
my @warnings;
my $cfg = do {
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    PVE::Mapping::PCI->parse_config('mapping/pci.cfg', $text);
};
my @ids = sort keys $cfg->{ids}->%*;
my $file = $recipe =~ s{.*/}{}r;
result(!@warnings && scalar(@ids), "PCI.pm parses $file as pci.cfg without a warning (mappings: @ids)",
    join('', @warnings));
my @written = grep { !/^#/ } split(/^/m, $text);
my $mine = join('', @written);
$mine =~ s/\A\n+//;
$mine =~ s/\n+\z/\n/;
my $theirs = PVE::Mapping::PCI->write_config('mapping/pci.cfg', $cfg);
$theirs =~ s/\n+\z/\n/;
result($mine eq $theirs, "written back by PCI.pm, the mappings are byte for byte those of $file",
    "ours:\n$mine\ntheirs:\n$theirs");
exit($failed ? 1 : 0) if $sysfs eq '/nonexistent';

# 2. Each entry for this node, as qemu-server reads it at VM start.
for my $id (@ids) {
    my $entries = do {
        local $SIG{__WARN__} = sub { push @warnings, @_ };
        PVE::Mapping::PCI::get_node_mapping($cfg, $id, $node);
    };
    my $n = scalar(@{ $cfg->{ids}->{$id}->{map} });
    result(scalar(@$entries) == $n, "$id: its $n map entries are for node $node and parse",
        join('', @warnings));
    for my $e (@$entries) {
        eval { PVE::Mapping::PCI::assert_valid($id, $e, $cfg->{ids}->{$id}) };
        result(!$@, "$id: $e->{path} passes assert_valid against the host's sysfs", $@);
    }
}

# 3. The pvesh commands, parsed as pvesh parses them and checked as the API
#    create call checks them: the same mapping as the file's.
my $plugin = PVE::Mapping::PCI->lookup('pci');
for my $line ($text =~ m/^#   (pvesh create .*)$/mg) {
    my @argv = Text::ParseWords::shellwords($line);
    splice(@argv, 0, 3);
    my ($param, $opts) = eval {
        my $p = PVE::JSONSchema::get_options(PVE::Mapping::PCI->createSchema(1), [@argv]);
        PVE::JSONSchema::validate($p, PVE::Mapping::PCI->createSchema(1));
        my $id = delete $p->{id};
        ($id, $plugin->check_config($id, $p, 1, 1));
    };
    my $want = $param && $cfg->{ids}->{$param};
    my $same = $want && $opts && join("\n", @{ $opts->{map} }) eq join("\n", @{ $want->{map} })
        && $opts->{description} eq $want->{description};
    result($same, "pvesh create --id " . ($param // '?') . ": accepted, and the file's mapping", $@ || $line);
}

# 4. The VM lines: qemu-server picks distinct GPUs of one group for one VM,
#    and a second VM asking for the same group finds none left.
my %reserved;
{
    no warnings qw(redefine once);
    # As qemu-server's own tests stand in for the cluster's file and for
    # /run/qemu-server/pci-id-reservations.
    *PVE::Mapping::PCI::config = sub { return $cfg };
    *PVE::QemuServer::PCI::reserve_pci_usage = sub {
        my ($ids, $vmid) = @_;
        for my $id (ref($ids) ? @$ids : ($ids)) {
            die "reserved by $reserved{$id}\n" if $reserved{$id} && $reserved{$id} != $vmid;
            $reserved{$id} = $vmid;
        }
    };
}
my %conf = (machine => 'q35');
$conf{$1} = $2 while $text =~ m/^#   (hostpci\d+): (\S+)$/mg;
my %group;
for my $id (@ids) {
    $group{ $_->{path} } = $id for PVE::Mapping::PCI::get_node_mapping($cfg, $id, $node)->@*;
}
for my $vmid (100, 101) {
    my $chosen = eval {
        PVE::QemuServer::PCI::choose_hostpci_devices(PVE::QemuServer::PCI::parse_hostpci_devices(\%conf), $vmid);
    };
    my @paths = map { $chosen->{$_}->{ids}->[0]->{id} } sort keys(($chosen // {})->%*);
    my %distinct = map { $_ => 1 } @paths;
    my %groups = map { ($group{$_} // '?') => 1 } @paths;
    if ($vmid == 100) {
        result(@paths > 1 && @paths == keys(%conf) - 1 && keys(%distinct) == @paths && keys(%groups) == 1,
            "VM $vmid with the VM lines gets distinct GPUs of one group: @paths", $@);
    } else {
        result(scalar($@ =~ m/could not find a free device/),
            "VM $vmid with the same lines finds no free GPU of that group while VM 100 holds them", $@ || "@paths");
    }
}

exit($failed ? 1 : 0);
